# The site's English dates read "1 November 2026" (day first, as the articles always showed them);
# every other language uses Django's own format for its locale.
DATE_FORMAT = "j F Y"
