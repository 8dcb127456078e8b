# syntax=docker/dockerfile:1
# Lookout container: Node 24 slim, non-root, config in /etc/lookout, events in /var/lib/lookout.

FROM node:24-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# The shipped location database package holds the combined file Lookout reads plus IPv4-only
# and IPv6-only copies of it (8 MB): drop the copies. Block probing (docs/blocks.md) reads only
# the IPv4 integer range files of its two CSV packages: drop the other formats (about 85 MB).
# The chart renderer loads one font of its font package (src/chart/renderer.ts): drop the rest.
RUN npm run build && npm prune --omit=dev \
 && rm -f node_modules/@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country-ipv4.mmdb \
          node_modules/@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country-ipv6.mmdb \
          node_modules/@ip-location-db/asn/asn-ipv4.csv node_modules/@ip-location-db/asn/asn-ipv6*.csv \
          node_modules/@ip-location-db/geo-whois-asn-country/geo-whois-asn-country-ipv4.csv \
          node_modules/@ip-location-db/geo-whois-asn-country/geo-whois-asn-country-ipv6*.csv \
 && find node_modules/dejavu-fonts-ttf/ttf -type f ! -name DejaVuSans.ttf -delete

FROM node:24-slim
ENV NODE_ENV=production \
    LOOKOUT_CONFIG=/etc/lookout/lookout.yaml \
    LOG_LEVEL=info
WORKDIR /app
# iproute2 and iptables serve `lookout simulate` (run it as root with --cap-add NET_ADMIN and
# --cap-add SYS_ADMIN); the daemon itself needs neither. fping sends the echoes of icmp targets
# (docs/icmp.md): Debian installs it with the file capability cap_net_raw, which the `node` user
# gets when the container keeps NET_RAW (Docker's default set does); fping 5.2 and later fall
# back to an ICMP datagram socket where net.ipv4.ping_group_range allows.
RUN apt-get update \
 && apt-get install -y --no-install-recommends iproute2 iptables fping \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# The status page's script and style (src/page/routes.ts reads them beside dist/).
COPY web ./web
# The default config points its catalogs at ../probes and its storage at ../data, relative to
# /etc/lookout: ship both beside it and make the data directory the volume.
COPY config/lookout.yaml /etc/lookout/lookout.yaml
COPY probes /etc/probes
COPY scenarios /app/scenarios
RUN sed -i 's#^  dir: ../data .*#  dir: /var/lib/lookout#' /etc/lookout/lookout.yaml \
 && mkdir -p /var/lib/lookout && chown node:node /var/lib/lookout
VOLUME ["/var/lib/lookout"]
USER node
EXPOSE 9464
# No curl in the image: the daemon's own healthcheck command asks /healthz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "/app/dist/main.js", "healthcheck"]
# Exec form: node is PID 1 and receives SIGTERM itself; main.ts handles SIGTERM/SIGINT/SIGHUP.
ENTRYPOINT ["node", "/app/dist/main.js"]
CMD ["run"]
