"""The web as one page at a time: fetching, decoding, parsing HTML, visible text and stylesheet references."""
