"""Service: the FastAPI app (`service.app.create_app`), storage, jobs and dashboard.

Routers (`service.routers`) stay thin: they take settings, a session factory and the
caller's key from `service.deps` and call the domain modules (`twins`, `studies`, `auth`).
Studies run in worker processes (`jobs`, `worker`) through the `scenarios` chunked store.
"""
