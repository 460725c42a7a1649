"""The web pages' routes, included by config.urls."""

from django.urls import path

from web.views import profile_page

app_name = "web"

urlpatterns = [
    path("u/<str:username>/", profile_page, name="profile"),
]
