# syntax=docker/dockerfile:1
# Build: a static binary, no cgo, with the Go of go.mod.
FROM golang:1.26.8-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" -o /out/llmproxy .

# Run: distroless static, as the non-root user it defines (uid 65532).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/llmproxy /usr/local/bin/llmproxy
# The binary listens on loopback unless told otherwise; in a container it
# must listen on every interface for the published port to reach it.
ENV HOST=0.0.0.0 PORT=4000
EXPOSE 4000
# distroless's nonroot user, by number, so that runAsNonRoot can check it.
USER 65532:65532
# distroless has no shell or curl: the binary checks itself.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 CMD ["/usr/local/bin/llmproxy", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/llmproxy"]
