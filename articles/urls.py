from django.urls import path, register_converter

from articles import feeds, views
from articles.languages import LanguageConverter

app_name = "articles"

register_converter(LanguageConverter, "lang")

urlpatterns = [
    path("", views.article_list, name="list"),
    path("feed/", feeds.LatestArticlesFeed(), name="feed"),
    path("tags/<str:tag>/", views.article_tag, name="tag"),
    path("<lang:language>/feed/", feeds.LanguageFeed(), name="feed-in"),
    path("<lang:language>/<slug:slug>/", views.article_in_language, name="detail-in"),
    path("<slug:slug>/", views.article_detail, name="detail"),
]
