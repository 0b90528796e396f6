FROM python:3.11-slim
WORKDIR /app
# Exactly the locked, hash-checked versions CI tested (requirements/runtime.txt, made by scripts/lock).
COPY requirements/runtime.txt requirements/runtime.txt
RUN pip install --no-cache-dir --require-hashes --no-deps -r requirements/runtime.txt
COPY pyproject.toml README.md ./
COPY generated generated
COPY gaia_services gaia_services
COPY compat_gateway compat_gateway
COPY web web
RUN pip install --no-cache-dir --no-deps --no-build-isolation .
EXPOSE 8666 8080 50051 50052 50053
CMD ["gaia", "serve", "shim"]
