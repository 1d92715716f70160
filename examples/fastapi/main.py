"""The tutorial's application, with login done by the database (user_mgmt).

    DATABASE_URL=postgresql+asyncpg://app@localhost/app uvicorn main:app
"""

from fastapi import FastAPI

from api import errors
from api.admin.router import router as admin_router
from api.auth.router import router as auth_router
from api.user.router import router as user_router
from database import engine

app = FastAPI(title="user_mgmt: the tutorial's app, login by the database")
app.include_router(auth_router)
app.include_router(user_router)
app.include_router(admin_router)
errors.install(app)


@app.on_event("shutdown")
async def dispose_engine() -> None:
    await engine.dispose()
