#!/usr/bin/env bash
# Builds a runnable Apache Kafka distribution (kafka_2.13-<v>/libs/*.jar, packed as kafka_2.13-<v>.tgz)
# from Maven Central, for tests and CI: Apache mirrors are not reachable from the build machines.
#
#   scripts/kafka-dist.sh VERSION        # e.g. 4.1.1 or 3.7.1
#
# Output: ${KRAFTD_CACHE:-$HOME/.cache/kraftd}/dist/kafka_2.13-<v>.tgz (printed on stdout) and the unpacked
# copy kafka_2.13-<v>/ beside it. The Maven repository lives in $KRAFTD_CACHE/m2 so CI can cache it.
# Idempotent: an existing tarball is only ever the product of a complete run (written to a temp name,
# then renamed), so when it exists nothing is done.
set -euo pipefail

usage() { echo "usage: $0 VERSION   (supported: 3.7.1, 4.1.1)" >&2; exit 2; }
[[ $# -eq 1 ]] || usage
version=$1
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "error: '$version' is not a Kafka version like 4.1.1" >&2; usage; }

cache=${KRAFTD_CACHE:-$HOME/.cache/kraftd}
dist_dir=$cache/dist
m2_repo=$cache/m2
name=kafka_2.13-$version
tarball=$dist_dir/$name.tgz
unpacked=$dist_dir/$name

if [[ -f $tarball && -f $unpacked/libs/$name.jar ]]; then
    echo "$tarball"
    exit 0
fi

command -v mvn >/dev/null || { echo "error: mvn not found; install Maven (apt-get install maven)" >&2; exit 1; }
mkdir -p "$dist_dir" "$m2_repo"

# Logging bindings mirror what the official tarball ships (see /work/shared/kafka-notes.md):
# 3.x logs through slf4j 1.7 -> reload4j; 4.x through slf4j 1.7 -> log4j2. slf4j-api must stay 1.7.x:
# with slf4j-api 2.x the 1.7-style bindings are not found and logging silently goes to NOP.
case $version in
    3.*)
        logging_deps="
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>1.7.36</version></dependency>
    <dependency><groupId>ch.qos.reload4j</groupId><artifactId>reload4j</artifactId><version>1.2.25</version></dependency>"
        ;;
    4.*)
        # The log4j2 version kafka-server $version itself depends on (runtime scope); override if needed.
        log4j2=${LOG4J2_VERSION:-2.24.3}
        logging_deps="
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>$log4j2</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>$log4j2</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-api</artifactId><version>$log4j2</version></dependency>"
        ;;
    *) echo "error: Kafka $version is not supported by this script (3.x or 4.x only)" >&2; exit 2 ;;
esac

work=$(mktemp -d "$dist_dir/.build-$name.XXXXXX")
trap 'rm -rf "$work"' EXIT

cat >"$work/pom.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>kraftd.fixture</groupId>
  <artifactId>kafka-dist</artifactId>
  <version>$version</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$version</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$version</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-shell</artifactId><version>$version</version></dependency>$logging_deps
  </dependencies>
  <build>
    <plugins>
      <plugin>
        <groupId>org.apache.maven.plugins</groupId>
        <artifactId>maven-dependency-plugin</artifactId>
        <version>3.8.1</version>
      </plugin>
    </plugins>
  </build>
</project>
EOF

echo "building $name from Maven Central (repo: $m2_repo)" >&2
# includeScope=runtime = compile + runtime scopes: nothing test- or provided-scoped lands in libs/.
mvn -q -B -Dstyle.color=never -f "$work/pom.xml" -Dmaven.repo.local="$m2_repo" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$work/$name/libs" >&2

libs=$work/$name/libs
[[ -f $libs/$name.jar ]] || { echo "error: $name.jar missing from the resolved classpath in $libs" >&2; exit 1; }
# Guard the failure mode that is silent at run time: an slf4j-api 2.x drags logging to NOP.
slf4j_jars=$(cd "$libs" && ls slf4j-api-*.jar 2>/dev/null || true)
if [[ $slf4j_jars != "slf4j-api-1.7."*.jar || $(wc -w <<<"$slf4j_jars") -ne 1 ]]; then
    echo "error: expected exactly one slf4j-api 1.7.x on the classpath, found: ${slf4j_jars:-none}" >&2
    exit 1
fi

cat >"$work/$name/README.kraftd" <<EOF
Apache Kafka $version (Scala 2.13) assembled by kraftd's scripts/kafka-dist.sh from Maven Central
artifacts org.apache.kafka:kafka_2.13, kafka-tools and kafka-shell $version plus their runtime
dependencies and the slf4j/log4j bindings the official release ships. Only libs/ is provided (no bin/,
config/): it is a test fixture laid out like the official kafka_2.13-$version.tgz.
Apache Kafka is licensed under the Apache License 2.0; see each jar's META-INF for its notices.
classpath: $slf4j_jars
EOF

# Reproducible-ish: sorted entries, fixed mtime and owner, gzip without a timestamp.
tar -C "$work" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --mode=u+rwX,go+rX,go-w -cf - "$name" \
    | gzip -n -9 >"$work/$name.tgz"

# Unpacked copy first, then the tarball: the tarball's presence is what marks a complete run.
rm -rf "$unpacked.tmp"
mv "$work/$name" "$unpacked.tmp"
rm -rf "$unpacked"
mv "$unpacked.tmp" "$unpacked"
mv "$work/$name.tgz" "$tarball"
echo "$tarball"
