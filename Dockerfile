# One image for every process: `docker run IMAGE api|worker|migrate`.
FROM python:3.11.14-slim-bookworm AS build
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PROJECT_ENVIRONMENT=/opt/venv
RUN pip install --no-cache-dir uv==0.13.8
WORKDIR /src
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY app ./app
COPY portal ./portal
COPY workers ./workers
COPY migrations ./migrations
RUN uv sync --frozen --no-dev --no-editable

FROM python:3.11.14-slim-bookworm AS runtime
RUN groupadd --system flexledger && useradd --system --gid flexledger --home /srv flexledger
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1
WORKDIR /srv
USER flexledger
EXPOSE 8000
ENTRYPOINT ["flexledger"]
CMD ["api"]
