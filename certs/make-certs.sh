#!/bin/bash
# make-certs.sh - make the handshake-lab demo certificates (loopback only).
#
#   ca.key / ca.crt                  root CA "handshake-lab demo CA", name-constrained
#                                    to localhost and the loopback addresses
#   server.key / server.crt          CN=localhost, signed by the CA
#   selfsigned.key / selfsigned.crt  CN=localhost, signed by itself (for the
#                                    "self-signed certificate" error)
#
# The certificate extensions live in ca.cnf and server.cnf next to this script,
# with comments saying what each one means.

set -eu
set -o pipefail

prog=${0##*/}
script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd -- "$script_dir/.." && pwd)
default_outdir=$repo_root/certs/out
ca_cnf=$script_dir/ca.cnf
server_cnf=$script_dir/server.cnf

ca_subject='/O=handshake-lab/CN=handshake-lab demo CA'
server_subject='/O=handshake-lab/CN=localhost'
selfsigned_subject='/O=handshake-lab self-signed/CN=localhost'
ca_days=825
leaf_days=397

usage() {
    cat <<EOF
Usage: $prog [--force] [OUTDIR]

Make the handshake-lab demo certificates in OUTDIR
(default: certs/out in the repository, i.e. $default_outdir):

  ca.key, ca.crt                  demo root CA (may vouch only for localhost and
                                  loopback addresses: name constraints)
  server.key, server.crt          CN=localhost, signed by the demo CA
  selfsigned.key, selfsigned.crt  CN=localhost, signed by itself

An existing CA is kept, and only missing server/self-signed files are made.

Options:
  --force     make everything anew, including a new CA
  -h, --help  show this help and exit
EOF
}

usage_error() {
    printf '%s: %s\n' "$prog" "$1" >&2
    usage >&2
    exit 2
}

die() {
    printf '%s: error: %s\n' "$prog" "$*" >&2
    exit 1
}

say() {
    printf '%s\n' "$*"
}

# Quote a word for display in a copy-and-paste shell command, only if needed.
shquote() {
    case $1 in
        *[!A-Za-z0-9_./:@%+=,-]*|'')
            printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")" ;;
        *)
            printf '%s' "$1" ;;
    esac
}

# ---------------------------------------------------------------- arguments
force=0
outdir=
outdir_set=0
end_of_options=0
for arg in "$@"; do
    if [ "$end_of_options" = 0 ]; then
        case $arg in
            --force) force=1; continue ;;
            -h|--help) usage; exit 0 ;;
            --) end_of_options=1; continue ;;
            -?*) usage_error "unknown option: $arg" ;;
        esac
    fi
    if [ "$outdir_set" = 1 ]; then
        usage_error "only one OUTDIR may be given (got '$outdir' and '$arg')"
    fi
    [ -n "$arg" ] || usage_error "OUTDIR must not be empty"
    outdir=$arg
    outdir_set=1
done
[ "$outdir_set" = 1 ] || outdir=$default_outdir
# A relative OUTDIR named "-" or "-x" must not look like an option to cd.
case $outdir in -*) outdir=./$outdir ;; esac

command -v openssl >/dev/null 2>&1 || die "openssl not found in PATH"
[ -r "$ca_cnf" ] || die "cannot read $ca_cnf"
[ -r "$server_cnf" ] || die "cannot read $server_cnf"

# OUTDIR itself is made with the caller's umask.
mkdir -p -- "$outdir" || die "cannot create $outdir"

# Private keys (and everything else made from here on) are created unreadable
# for other users; certificates are made world-readable when installed.
umask 077
outdir=$(cd -- "$outdir" && pwd) || die "cannot enter $outdir"

# How to name the output files in the hints: relative to the repository root
# for the default directory, else the full path.
default_resolved=$default_outdir
if [ -d "$default_outdir" ]; then
    default_resolved=$(cd -- "$default_outdir" && pwd)
fi
if [ "$outdir" = "$default_resolved" ]; then
    show_dir=certs/out
    is_default=1
else
    show_dir=$outdir
    is_default=0
fi

# ---------------------------------------------------------------- state
have() { [ -e "$outdir/$1" ]; }

# The public key of a private key and of a certificate must be the same.
key_matches_cert() {
    local k c
    k=$(openssl pkey -in "$1" -pubout 2>/dev/null) || return 1
    c=$(openssl x509 -in "$2" -noout -pubkey 2>/dev/null) || return 1
    [ -n "$k" ] && [ "$k" = "$c" ]
}

# What to do for each pair: "new" (new key and certificate), "crt" (a new
# certificate for the existing key) or "keep".
ca_do=new server_do=new selfsigned_do=new
notes=()

# Decide for server/selfsigned when the CA is kept: only what is missing.
leaf_plan() {
    local n=$1
    if have "$n.key" && have "$n.crt"; then
        key_matches_cert "$outdir/$n.key" "$outdir/$n.crt" ||
            die "$outdir/$n.key does not belong to $outdir/$n.crt (or cannot be read); use --force to make new ones"
        printf -v "${n}_do" %s keep
        notes+=("keeping $n.key and $n.crt")
    elif have "$n.key"; then
        openssl pkey -in "$outdir/$n.key" -noout >/dev/null 2>&1 ||
            die "cannot read the private key $outdir/$n.key; use --force to make new ones"
        printf -v "${n}_do" %s crt
        notes+=("making $n.crt for the existing $n.key")
    elif have "$n.crt"; then
        notes+=("making $n.key and $n.crt ($n.crt without its key is of no use: replacing it)")
    else
        notes+=("making $n.key and $n.crt")
    fi
}

if [ "$force" = 0 ]; then
    if have ca.key || have ca.crt; then
        have ca.key || die "$outdir has ca.crt but no ca.key: cannot sign with this CA; use --force to make a new CA"
        have ca.crt || die "$outdir has ca.key but no ca.crt; use --force to make a new CA"
        key_matches_cert "$outdir/ca.key" "$outdir/ca.crt" ||
            die "$outdir/ca.key does not belong to $outdir/ca.crt (or cannot be read); use --force to make a new CA"
        ca_do=keep
        leaf_plan server
        leaf_plan selfsigned
    fi
    if [ "$ca_do$server_do$selfsigned_do" = keepkeepkeep ]; then
        say "certificates already present in $outdir (use --force to make new ones)"
        for f in ca.crt server.crt selfsigned.crt; do
            if ! openssl x509 -in "$outdir/$f" -noout -checkend 0 >/dev/null 2>&1; then
                printf '%s: warning: %s has expired; use --force to make new ones\n' \
                    "$prog" "$outdir/$f" >&2
            fi
        done
        exit 0
    fi
fi

# ---------------------------------------------------------------- temp dir
# Everything is made in a temporary directory inside OUTDIR (so the final
# rename is atomic) and moved into place only after the checks passed.
tmp=$(mktemp -d "$outdir/.make-certs.XXXXXX") || die "cannot create a temporary directory in $outdir"
cleanup() { rm -rf -- "$tmp"; }
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# Run openssl quietly ("Certificate request self-signature ok" ...); show its
# messages only when it fails.
ossl() {
    local err
    if ! err=$(openssl "$@" </dev/null 2>&1 >/dev/null); then
        printf '%s\n' "$err" >&2
        die "openssl $1 failed"
    fi
}

new_key() {
    # ECDSA key on the NIST P-256 curve (prime256v1), PKCS#8 PEM.
    ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"
}

# Where each file comes from: the temporary directory when it is new.
src() {
    local n=$1 ext=$2 what
    what=${n}_do
    if [ "${!what}" = new ] || { [ "${!what}" = crt ] && [ "$ext" = crt ]; }; then
        printf '%s' "$tmp/$n.$ext"
    else
        printf '%s' "$outdir/$n.$ext"
    fi
}

# ---------------------------------------------------------------- make
if [ "$ca_do" = new ]; then
    if [ "$force" = 1 ]; then
        say "making new certificates in $outdir (--force): ca, server, selfsigned"
    else
        say "making certificates in $outdir: ca, server, selfsigned"
    fi
    new_key "$tmp/ca.key"
    ossl req -new -x509 -config "$ca_cnf" -extensions v3_ca -sha256 \
        -key "$tmp/ca.key" -subj "$ca_subject" -days "$ca_days" -out "$tmp/ca.crt"
else
    say "keeping the existing CA in $outdir (ca.key, ca.crt; --force makes a new one)"
    for note in "${notes[@]}"; do
        say "$note"
    done
fi
ca_key=$(src ca key) ca_crt=$(src ca crt)
server_key=$(src server key) server_crt=$(src server crt)
selfsigned_key=$(src selfsigned key)

if [ "$server_do" != keep ]; then
    [ "$server_do" = crt ] || new_key "$server_key"
    ossl req -new -config "$server_cnf" -sha256 \
        -key "$server_key" -subj "$server_subject" -out "$tmp/server.csr"
    # No -CAserial/-CAcreateserial: openssl picks a random serial number.
    ossl x509 -req -in "$tmp/server.csr" -CA "$ca_crt" -CAkey "$ca_key" -sha256 \
        -days "$leaf_days" -extfile "$server_cnf" -extensions server_ext \
        -out "$server_crt"
fi

if [ "$selfsigned_do" != keep ]; then
    [ "$selfsigned_do" = crt ] || new_key "$selfsigned_key"
    ossl req -new -x509 -config "$server_cnf" -extensions selfsigned_ext -sha256 \
        -key "$selfsigned_key" -subj "$selfsigned_subject" -days "$leaf_days" \
        -out "$(src selfsigned crt)"
fi

# ---------------------------------------------------------------- check
# The server certificate must verify against the CA before anything is
# installed (this also catches an old server.crt from another CA, or an
# expired CA).
if ! out=$(openssl verify -CAfile "$ca_crt" "$server_crt" 2>&1); then
    printf '%s\n' "$out" >&2
    die "server.crt does not verify against ca.crt; nothing was changed in $outdir (use --force to make everything anew)"
fi

# ---------------------------------------------------------------- install
install_pair() {
    local n=$1 what=${1}_do
    case ${!what} in
        new)
            chmod 0600 "$tmp/$n.key"
            chmod 0644 "$tmp/$n.crt"
            mv -f -- "$tmp/$n.key" "$outdir/$n.key"
            mv -f -- "$tmp/$n.crt" "$outdir/$n.crt"
            say "wrote $outdir/$n.key (private key, mode 0600) and $outdir/$n.crt" ;;
        crt)
            chmod 0644 "$tmp/$n.crt"
            mv -f -- "$tmp/$n.crt" "$outdir/$n.crt"
            say "wrote $outdir/$n.crt" ;;
    esac
}
install_pair ca
install_pair server
install_pair selfsigned

# ---------------------------------------------------------------- report
say ""
say "\$ openssl verify -CAfile ca.crt server.crt    (in $outdir)"
(cd -- "$outdir" && openssl verify -CAfile ca.crt server.crt) ||
    die "openssl verify -CAfile ca.crt server.crt failed in $outdir"

for f in ca.crt server.crt selfsigned.crt; do
    say ""
    say "$f:"
    openssl x509 -in "$outdir/$f" -noout -nameopt oneline,-esc_msb \
        -subject -issuer -startdate -enddate -fingerprint -sha256 |
        sed 's/^/  /' ||
        die "cannot read $outdir/$f"
done

ca_show=$(shquote "$show_dir/ca.crt")
if [ "$is_default" = 1 ]; then
    where=" (run from the repository root)"
else
    where=
fi

cat <<EOF

How to trust the demo CA$where:
  build/client --cacert $ca_show https://localhost:8443/
  curl --cacert $ca_show https://localhost:8443/

In a browser (remove it again when you are done):
  Firefox: Settings -> Privacy & Security -> Certificates -> View Certificates
           -> Authorities
    add:     Import... -> choose the file below, tick "Trust this CA to identify websites"
               $outdir/ca.crt
    remove:  select "handshake-lab demo CA" (under "handshake-lab") -> Delete or Distrust...
  Chromium/Chrome on Linux (certutil is in Debian's libnss3-tools package):
    add:     certutil -d sql:\$HOME/.pki/nssdb -A -t C,, -n handshake-lab-demo-ca -i $ca_show
    remove:  certutil -d sql:\$HOME/.pki/nssdb -D -n handshake-lab-demo-ca

The CA carries critical name constraints: it can only vouch for localhost
(and *.localhost), 127.0.0.0/8 and ::1. A certificate it signs for any other
name is rejected (OpenSSL error 47, "permitted subtree violation"), so
trusting it cannot be abused for real sites. Still keep ca.key private.

selfsigned.crt is trusted by nothing on purpose: serve it to show the
"self-signed certificate" error (OpenSSL error 18).
EOF
