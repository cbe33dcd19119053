# kraftd rpm %postun: reload units after the unit file changed or went away. On erase ($1 = 0) rpm has
# no purge: config, state and data are kept, and this says where.
if [ "$1" -eq 0 ]; then
    data_dir=/var/lib/kafka/data
    [ -r /var/lib/kraftd/data-dir ] && data_dir=$(head -n1 /var/lib/kraftd/data-dir)
    echo "kraftd: removed; kept the Kafka data in $data_dir, the config /etc/kafka/kraftd.toml and the state /var/lib/kraftd (delete them yourself to purge)" >&2
fi
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload || :
fi
exit 0
