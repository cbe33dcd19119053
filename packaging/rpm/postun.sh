# kraftd rpm %postun: reload units after the unit file changed or went away.
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload || :
fi
exit 0
