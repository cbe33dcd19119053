# kraftd rpm %post ($1: 1 = first install, 2 = upgrade). Provision from the bundled Kafka; enablement
# follows the distro's presets (Fedora/RHEL policy), it does not start the broker on first install.
provisioned=0
/usr/lib/kraftd/package-provision && provisioned=1
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload || :
fi
if [ "$1" -eq 1 ] && [ "$provisioned" = 1 ]; then
    systemctl --no-reload preset kafka.service >/dev/null 2>&1 || :
fi
if [ "$1" -ge 2 ] && [ "$provisioned" = 1 ]; then
    # Restart once, in %posttrans, after the old package's files are gone.
    mkdir -p /run/kraftd && touch /run/kraftd/restart-after-upgrade || :
fi
exit 0
