# kraftd rpm %posttrans: after an upgrade transaction, restart a running broker once with the new files.
if [ -e /run/kraftd/restart-after-upgrade ]; then
    rm -f /run/kraftd/restart-after-upgrade
    if [ -d /run/systemd/system ]; then
        systemctl try-restart kafka.service || :
    fi
fi
exit 0
