# One image for every component; the component is the command: `gaia serve auth|chat|asset|shim|web`,
# `gaia migrate` (deploy/k8s and docker-compose.yml pass it as the arguments of the `gaia` entry point).

# -- build: the locked, hash-checked runtime dependencies (requirements/runtime.txt, made by scripts/lock)
# and the project's own wheel, into a virtualenv copied whole into the runtime stage.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/gaia
ENV PATH=/opt/gaia/bin:$PATH
WORKDIR /src
COPY requirements/runtime.txt requirements/runtime.txt
RUN pip install --require-hashes --no-deps -r requirements/runtime.txt
COPY pyproject.toml README.md ./
COPY generated generated
COPY gaia_services gaia_services
COPY compat_gateway compat_gateway
COPY web web
RUN pip wheel --no-deps --no-build-isolation --wheel-dir /wheels . \
    && pip install --no-deps /wheels/*.whl

# -- runtime: the virtualenv and nothing else (no compilers, no sources), as an unprivileged user.
FROM python:3.11-slim AS runtime
RUN groupadd --system --gid 10001 gaia \
    && useradd --system --uid 10001 --gid gaia --home-dir /var/lib/gaia --no-create-home gaia \
    && mkdir -p /var/lib/gaia && chown gaia:gaia /var/lib/gaia
COPY --from=build /opt/gaia /opt/gaia
ENV PATH=/opt/gaia/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    GAIA_DATA_DIR=/var/lib/gaia \
    GAIA_HOST=0.0.0.0
WORKDIR /var/lib/gaia
USER 10001:10001
EXPOSE 8666 8080 50051 50052 50053
ENTRYPOINT ["gaia"]
CMD ["serve", "shim"]
