"""The site crawl: per-host queues, the crawler, progress reporting and the page-analysis worker pool."""
