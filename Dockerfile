# syntax=docker/dockerfile:1
#
# kosapo's container images: one target per service and one for the
# command-line client (tools), all built from one Debian 12 build stage.
#
#   docker build --target case -t registry.city.example/kosapo/case:0.1.0 .
#   targets: screening, case, referral, reporting, tools
#
# Every RUN calls scripts/build-image-stage.sh, the script CI runs too
# (deploy/checks/image-test.sh assembles the same root filesystems from CI's
# build and starts every binary in them with chroot), so these commands are
# exercised without a container engine. The final images are FROM scratch
# plus exactly what the binaries load: no shell, no package manager, user
# 65532, nothing written outside /tmp (mount an emptyDir there).
#
# Pin the base by digest for reproducible builds:
#   docker build --build-arg DEBIAN_IMAGE=debian:12-slim@sha256:... .
ARG DEBIAN_IMAGE=debian:12-slim

FROM ${DEBIAN_IMAGE} AS build
COPY scripts/build-image-stage.sh /usr/local/sbin/kosapo-image-stage
RUN ["kosapo-image-stage", "build-deps"]
WORKDIR /src
COPY . .
RUN ["kosapo-image-stage", "build", "/src", "/build"]
RUN ["kosapo-image-stage", "rootfs", "/build", "/rootfs"]

FROM scratch AS screening
COPY --from=build /rootfs/screening/ /
USER 65532:65532
EXPOSE 50051 9451
ENTRYPOINT ["/usr/local/bin/kosapo-screening"]

FROM scratch AS case
COPY --from=build /rootfs/case/ /
USER 65532:65532
EXPOSE 50052 9452
ENTRYPOINT ["/usr/local/bin/kosapo-case"]

FROM scratch AS referral
COPY --from=build /rootfs/referral/ /
USER 65532:65532
EXPOSE 50053 9453
ENTRYPOINT ["/usr/local/bin/kosapo-referral"]

FROM scratch AS reporting
COPY --from=build /rootfs/reporting/ /
USER 65532:65532
EXPOSE 50054 9454
ENTRYPOINT ["/usr/local/bin/kosapo-reporting"]

# The kosapo command-line client; its arguments follow the image, e.g.
#   docker run --rm IMAGE health --address=HOST:50052
FROM scratch AS tools
COPY --from=build /rootfs/tools/ /
USER 65532:65532
ENV PATH=/usr/local/bin
ENTRYPOINT ["/usr/local/bin/kosapo"]
CMD ["--help"]
