# layerscope's own image: built in a builder stage, shipped as one static
# binary on scratch with CA certificates (for registries) and a non-root
# user. The builder's base is a build argument: .ci/selfimage.sh builds on a
# local Go image, since CI cannot pull.
#
#   docker build -t layerscope .
#   docker run --rm -v /var/run/docker.sock:/var/run/docker.sock layerscope --ci IMAGE
ARG GO_IMAGE=golang:1.26.8
FROM ${GO_IMAGE} AS build
WORKDIR /src
COPY go.mod go.sum ./
# A build context with vendor/ (go mod vendor) builds offline.
COPY . .
RUN if [ ! -d vendor ]; then go mod download; fi \
 && CGO_ENABLED=0 GOTOOLCHAIN=local go build -trimpath -ldflags="-s -w" -o /out/layerscope . \
 && mkdir -p /out/etc/ssl/certs \
 && cp /etc/ssl/certs/ca-certificates.crt /out/etc/ssl/certs/

FROM scratch
COPY --from=build /out/etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/layerscope /layerscope
USER 65532:65532
ENTRYPOINT ["/layerscope"]
