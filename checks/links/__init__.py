"""Links check family: dead links on a site's pages."""
