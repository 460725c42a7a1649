"""URL routes: the admin, the GraphQL endpoint (/graphql/) and export downloads (/exports/<id>/)."""

from django.conf import settings
from django.contrib import admin
from django.contrib.staticfiles.urls import staticfiles_urlpatterns
from django.urls import URLPattern, URLResolver, include, path

urlpatterns: list[URLPattern | URLResolver] = [
    path("admin/", admin.site.urls),
    path("", include("graphql_api.urls")),
]

if settings.DEBUG:
    urlpatterns += staticfiles_urlpatterns()
