from django.urls import path

from articles import feeds, views

app_name = "articles"

urlpatterns = [
    path("", views.article_list, name="list"),
    path("feed/", feeds.LatestArticlesFeed(), name="feed"),
    path("tags/<str:tag>/", views.article_tag, name="tag"),
    path("<slug:slug>/", views.article_detail, name="detail"),
]
