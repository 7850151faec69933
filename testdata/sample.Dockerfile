# The Dockerfile that the bundled sample image (testdata/sample.tar) stands
# for: its final stage matches the sample's history, so with
# --dockerfile testdata/sample.Dockerfile the findings name these lines.
FROM debian:12
RUN apt-get update && apt-get install -y golang-1.22
ENV PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
WORKDIR /src
COPY . /src
ARG NPM_TOKEN
RUN go build -o /app/server .
RUN rm -f /src/deploy_key /var/cache/apt/archives/*.deb
RUN chmod +x /app/server
EXPOSE 8080
CMD ["/app/server"]
