"""The site's scripts: the page generator (`literate_norm`) and the measurement scripts."""
