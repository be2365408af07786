from django.urls import path

from meet import views

app_name = "meet"

urlpatterns = [
    path("", views.call_page, name="call"),
]
