"""The API's routes, included by config.urls."""

from django.urls import path

from graphql_api.schema import schema
from graphql_api.views import export_download, graphql_view

app_name = "graphql_api"

urlpatterns = [
    path("graphql/", graphql_view(schema), name="graphql"),
    path("exports/<int:job_id>/", export_download, name="export-download"),
]
