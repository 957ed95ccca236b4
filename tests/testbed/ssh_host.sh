#!/bin/sh
# Turns a test container into a host reached the way most fleets are: sshd on its own loopback
# port, an ordinary user with passwordless sudo and a key, nothing else installed (no acl). Run
# inside the container as root:
#
#   ssh_host.sh PORT USER PUBLIC_KEY [noisy]
#
# With "noisy", the host also prints what real hosts print around every command: a login banner
# (sshd's Banner), a line from the user's shell start-up file (on stdout) and a warning from sudo
# on every call (a drop-in file sudo refuses, so it warns and goes on).
set -eu
port=$1 user=$2 key=$3 noisy=${4:-}

if ! command -v sshd >/dev/null 2>&1; then
  # Debian starts sshd on port 22 when it is installed; on the host's network that would be the
  # host's port 22. No service starts during the install; sshd is started below, on loopback.
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod 0755 /usr/sbin/policy-rc.d
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssh-server >/dev/null
  rm -f /usr/sbin/policy-rc.d
  systemctl disable ssh.service ssh.socket >/dev/null 2>&1 || true
fi

id "$user" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$user"
echo "$user ALL=(ALL) NOPASSWD: ALL" >/etc/sudoers.d/"$user"
chmod 0440 /etc/sudoers.d/"$user"
home=$(getent passwd "$user" | cut -d: -f6)
install -d -m 0700 -o "$user" -g "$user" "$home/.ssh"
printf '%s\n' "$key" >"$home/.ssh/authorized_keys"
chown "$user:" "$home/.ssh/authorized_keys"
chmod 0600 "$home/.ssh/authorized_keys"

cat >/etc/ssh/sshd_config.d/lockstep-testbed.conf <<CONF
Port $port
ListenAddress 127.0.0.1
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
CONF
if [ "$noisy" = noisy ]; then
  echo "Authorized use only. This host is monitored." >/etc/issue.net
  echo "Banner /etc/issue.net" >>/etc/ssh/sshd_config.d/lockstep-testbed.conf
  # Before the usual "not interactive: return" of a start-up file, as many are.
  printf 'echo "Welcome to %s, managed by the platform team"\n' "$(hostname)" >"$home/.bashrc.noise"
  cat "$home/.bashrc.noise" "$home/.bashrc" >"$home/.bashrc.new" 2>/dev/null || cp "$home/.bashrc.noise" "$home/.bashrc.new"
  mv "$home/.bashrc.new" "$home/.bashrc"
  rm -f "$home/.bashrc.noise"
  chown "$user:" "$home/.bashrc"
  # sudo warns about (and ignores) a drop-in that others may write, on every call.
  touch /etc/sudoers.d/zz-lockstep-noise
  chmod 0666 /etc/sudoers.d/zz-lockstep-noise
fi

mkdir -p /run/sshd
pkill -f "^sshd: /usr/sbin/sshd -f /etc/ssh/sshd_config" 2>/dev/null || true
pkill -x sshd 2>/dev/null || true
/usr/sbin/sshd -f /etc/ssh/sshd_config
