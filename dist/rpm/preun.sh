# kraftd rpm %preun ($1: 0 = erase, 1 = upgrade). Erase: stop and disable; config and data are kept
# (rpm has no purge: deleting /var/lib/kafka is left to the admin).
if [ "$1" -eq 0 ]; then
    if [ -d /run/systemd/system ]; then
        systemctl stop kafka.service || :
    fi
    systemctl --no-reload disable kafka.service >/dev/null 2>&1 || :
fi
exit 0
