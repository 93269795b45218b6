"""The site's scripts: the page generator (`scripts.literate`) and the measurement scripts."""
