"""The HTTP API: thin FastAPI routers over the one ``AssistantService`` (see ``api.app.create_app``)."""
