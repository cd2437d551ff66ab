"""No handler waits on the database on the event loop: a write waiting on SQLite's write lock, or a read
on a slow database, would stall every other request."""

import inspect

from fastapi.routing import APIRoute

# Only awaits: it hands its database and file work to the thread pool itself.
AWAITING_ONLY = {"upload_artifact"}
# Reads by primary key: they do not grow with the data, and a thread hand-off costs more than they do.
BY_KEY_ON_THE_LOOP = {"get_model_run"}


def api_routes(routes) -> list[APIRoute]:
    """Every handler of the app, through the routers it includes (FastAPI nests included routers)."""
    found = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):
            found.extend(api_routes(route.original_router.routes))
    return found


def test_every_handler_but_the_streamed_upload_runs_in_the_thread_pool(app):
    handlers = [route for route in api_routes(app.routes) if route.endpoint.__module__.startswith("gemini.rest_api")]
    assert len(handlers) > 40  # the walk reached the routers' handlers
    # An async handler hands its registry call to the executor (gemini.rest_api.threads): it never calls
    # registry() itself outside off_the_loop.
    on_the_loop = [
        f"{sorted(route.methods)} {route.endpoint.__module__}.{route.endpoint.__name__}"
        for route in handlers
        if inspect.iscoroutinefunction(route.endpoint)
        and route.endpoint.__name__ not in AWAITING_ONLY | BY_KEY_ON_THE_LOOP
        and not all(
            "off_the_loop(" in line
            or line.strip().startswith("registry().")  # the first argument of an off_the_loop( call
            for line in inspect.getsource(route.endpoint).splitlines()
            if "registry()" in line
        )
    ]
    assert on_the_loop == []
    assert any(inspect.iscoroutinefunction(route.endpoint) for route in handlers if route.endpoint.__name__ == "log_metric_batch")
