FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY generated generated
COPY gaia_services gaia_services
COPY compat_gateway compat_gateway
COPY web web
RUN pip install --no-cache-dir .
EXPOSE 8666 8080 50051 50052 50053
CMD ["gaia", "serve", "shim"]
