# syntax=docker/dockerfile:1
# Build: a static binary, no cgo.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" -o /out/llmproxy .

# Run: distroless static, as the non-root user it defines (uid 65532).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/llmproxy /usr/local/bin/llmproxy
ENV HOST=0.0.0.0 PORT=4000
EXPOSE 4000
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/llmproxy"]
