"""Site-identity check family: the identification code, ICP and police filings, the .gov.cn domain."""
