#!/bin/bash
# make-certs.sh - make the handshake-lab demo certificates (loopback only).
#
#   ca.key / ca.crt                  root CA "handshake-lab demo CA", name-constrained
#                                    to localhost and the loopback addresses
#   server.key / server.crt          CN=localhost, signed by the CA
#   selfsigned.key / selfsigned.crt  CN=localhost, signed by itself (for the
#                                    "self-signed certificate" error)
#   server-rsa.key / server-rsa.crt  CN=localhost, RSA-2048, signed by the CA, its
#                                    keyUsage allows keyEncipherment: TLS 1.2 RSA
#                                    key transport (server --rsa-port)
#   client.key / client.crt          CN=handshake-lab student, a client
#                                    certificate (mutual TLS), signed by the CA
#   gallery/                         with --gallery: one certificate per common
#                                    certificate failure (see gallery.tsv)
#
# --name HOST_OR_IP (repeatable) adds a LAN name or address to server.crt and
# selfsigned.crt and to the CA's name constraints (a classroom on a LAN).
#
# The certificate extensions live in ca.cnf, server.cnf, client.cnf and
# gallery.cnf next to this script, with comments saying what each one means.

set -eu
set -o pipefail

prog=${0##*/}
script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd -- "$script_dir/.." && pwd)
default_outdir=$repo_root/certs/out
ca_cnf=$script_dir/ca.cnf
server_cnf=$script_dir/server.cnf
client_cnf=$script_dir/client.cnf
gallery_cnf=$script_dir/gallery.cnf
gallery_tsv=$script_dir/gallery.tsv

ca_subject='/O=handshake-lab/CN=handshake-lab demo CA'
server_subject='/O=handshake-lab/CN=localhost'
selfsigned_subject='/O=handshake-lab self-signed/CN=localhost'
client_subject='/O=handshake-lab/CN=handshake-lab student'
ca_days=825
leaf_days=397

usage() {
    cat <<EOF
Usage: $prog [--force] [--gallery] [--name HOST_OR_IP]... [OUTDIR]

Make the handshake-lab demo certificates in OUTDIR
(default: certs/out in the repository, i.e. $default_outdir):

  ca.key, ca.crt                  demo root CA (may vouch only for localhost and
                                  loopback addresses, and the --name names:
                                  name constraints)
  server.key, server.crt          CN=localhost, signed by the demo CA
  selfsigned.key, selfsigned.crt  CN=localhost, signed by itself
  server-rsa.key, server-rsa.crt  CN=localhost, an RSA-2048 key, signed by the demo
                                  CA; keyUsage keyEncipherment allows TLS 1.2 RSA
                                  key transport (build/server --rsa-port)
  client.key, client.crt          CN=handshake-lab student, a client certificate
                                  for mutual TLS (clientAuth), signed by the demo CA

An existing CA is kept, and only missing server/self-signed/RSA/client files are made.

Options (options and OUTDIR may come in any order; "--" ends the options):
  --force             make everything anew, including a new CA (and, with
                      --gallery, a new gallery)
  --gallery           also make OUTDIR/gallery/: one certificate per common
                      certificate failure (expired, wrong host, revoked, ...),
                      NAME.crt, NAME.chain.pem (what the server sends), NAME.key,
                      index.tsv (files and expected verdicts per peer),
                      trust.pem (the CAs a client should trust) and crl.pem.
                      An existing gallery that still checks out is kept.
  --name HOST_OR_IP   (repeatable) a host name or IPv4/IPv6 address of this
                      machine on a LAN, e.g. --name teacher.lan --name
                      192.168.1.10: added to server.crt and selfsigned.crt AND
                      to the names the CA may vouch for. That is a new CA, so it
                      needs --force when OUTDIR has a CA already (unless its
                      server.crt has these names already).
                      A top-level domain or other public suffix (com, co.uk,
                      github.io: Debian's publicsuffix list) is refused: a CA
                      permitted for it would vouch for every site under it.
  -h, --help          show this help and exit

Environment:
  PUBLIC_SUFFIX_LIST  the public suffix list (default
                      /usr/share/publicsuffix/public_suffix_list.dat; if it is
                      missing, --name refuses names of fewer than three labels)
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

# ---------------------------------------------------------------- names
# --name: the extra names, and whether each is a DNS name or an IP address.
names=()
name_types=()

is_ipv4() {
    local IFS=. octets o
    [[ $1 =~ ^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$ ]] || return 1
    read -r -a octets <<<"$1"
    for o in "${octets[@]}"; do
        # No leading zeros: "010" means 8 to some programs and 10 to others.
        case $o in 0?*) return 1 ;; esac
        [ "$o" -le 255 ] || return 1
    done
}

# Count the 16-bit groups of one side of an IPv6 "::" (1 to 4 hex digits each);
# fails on an empty group.
ipv6_groups() {
    local IFS=: groups g
    [ -n "$1" ] || { printf 0; return 0; }
    case $1 in :*|*:) return 1 ;; esac
    read -r -a groups <<<"$1"
    for g in "${groups[@]}"; do
        [[ $g =~ ^[0-9a-f]{1,4}$ ]] || return 1
    done
    printf '%s' "${#groups[@]}"
}

# Plain hexadecimal IPv6 only: no [brackets], %zone, /prefix or dotted IPv4 tail.
is_ipv6() {
    local a=$1 head tail nh nt
    [[ $a =~ ^[0-9a-f:]+$ ]] || return 1
    case $a in
        *::*::*|*:::*) return 1 ;;
        *::*)
            head=${a%%::*} tail=${a#*::}
            nh=$(ipv6_groups "$head") || return 1
            nt=$(ipv6_groups "$tail") || return 1
            [ $((nh + nt)) -le 7 ] ;;
        *)
            nh=$(ipv6_groups "$a") || return 1
            [ "$nh" = 8 ] ;;
    esac
}

is_dns_name() {
    local label='[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?'
    [ "${#1}" -le 253 ] && [[ $1 =~ ^$label(\.$label)*$ ]]
}

# ---------------------------------------------------------------- public suffixes
# A CA permitted for "com" (or "co.uk", or "github.io") would vouch for every
# site under it, anyone's bank included. The public suffix list says which names
# are public suffixes: Debian's publicsuffix package, both its ICANN and its
# PRIVATE section, with the wildcard (*.ck) and exception (!www.ck) rules.
# PUBLIC_SUFFIX_LIST overrides its path (the tests point it at a missing file).
psl=${PUBLIC_SUFFIX_LIST:-/usr/share/publicsuffix/public_suffix_list.dat}

# The list's rule that makes NAME (lower case, Unicode) a public suffix, with its
# section: "github.io PRIVATE". Prints nothing if NAME is not one, i.e. if no
# rule matches it or an exception rule (!NAME) takes it out of a wildcard.
psl_rule() {
    LC_ALL=C awk -v n="$1" '
        BEGIN { d = index(n, "."); parent = d ? substr(n, d + 1) : ""; sect = "ICANN" }
        /^\/\/ ===BEGIN PRIVATE DOMAINS===/ { sect = "PRIVATE" }
        { sub(/\r$/, ""); r = $1 }
        r == "" || r ~ /^\/\// { next }
        r == "!" n { exc = 1 }
        (r == n || (parent != "" && r == "*." parent)) && hit == "" { hit = r " " sect }
        END { if (hit != "" && !exc) print hit }' "$psl"
}

# Refuse a --name that is a top-level domain or another public suffix.
refuse_public_suffix() {
    local arg=$1 n=$2 u rule labels
    case $n in
        localhost) return 0 ;;
        *.*) ;;
        # The list's implicit rule "*": any single label is a top-level domain, or may become one.
        *) name_error "--name $arg: a single label is a top-level domain (or may become one): a CA permitted for it would vouch for every name under it; give this machine's full name, e.g. teacher.lan" ;;
    esac
    if [ ! -r "$psl" ]; then
        labels=$(printf '%s' "$n" | tr -cd . | wc -c)
        [ "$labels" -ge 2 ] ||
            name_error "--name $arg: the public suffix list $psl is missing (apt-get install publicsuffix), so a name of fewer than three labels is refused: it could be a public suffix like co.uk or github.io, for which the CA would vouch for every site under it; install the list, or give a name of three labels (e.g. pc1.$n)"
        return 0
    fi
    u=$n
    case .$n in
        *.xn--*)
            # The list writes international names in Unicode; compare like with like.
            command -v python3 >/dev/null 2>&1 ||
                name_error "--name $arg: checking an xn-- name against the public suffix list needs python3"
            u=$(python3 -c 'import sys; print(sys.argv[1].encode("ascii").decode("idna"))' "$n" 2>/dev/null) ||
                name_error "--name $arg: not a valid international (xn--) name"
            ;;
    esac
    rule=$(psl_rule "$u")
    [ -z "$rule" ] ||
        name_error "--name $arg: $n is a public suffix (rule ${rule% *} in the ${rule##* } section of $psl): a CA permitted for it would vouch for every site under it, other people's included; give a name of your own under it instead"
}

# A CA made before make-certs.sh checked the public suffix list may be
# permitted for one: say so (on standard error), and how to replace it.
warn_public_suffix_ca() {
    local p bad=
    while IFS= read -r p; do
        case $p in
            localhost) ;;
            *.*) [ ! -r "$psl" ] || [ -z "$(psl_rule "$p")" ] || bad+=" $p" ;;
            *) bad+=" $p" ;;
        esac
    done < <(openssl x509 -in "$outdir/ca.crt" -noout -ext nameConstraints 2>/dev/null |
        sed -n 's/^ *DNS://p' | tr '[:upper:]' '[:lower:]')
    [ -z "$bad" ] || printf '%s: warning: %s is permitted for a public suffix or top-level domain:%s; it can vouch for every site under it, other people'"'"'s included. Make a new CA for names of your own: %s --force --name HOST_OR_IP ...\n' \
        "$prog" "$outdir/ca.crt" "$bad" "$prog" >&2
}

name_error() {
    printf '%s: %s\n' "$prog" "$1" >&2
    exit 2
}

add_name() {
    local n type i
    n=$(printf '%s' "$1" | tr '[:upper:]' '[:lower:]')
    case $n in
        '') usage_error "--name needs a host name or an IP address" ;;
        \[*) usage_error "--name $1: give an IPv6 address without [brackets]" ;;
        *'*'*) usage_error "--name $1: wildcards are not supported; name each host (the CA then vouches for exactly those)" ;;
        */*) usage_error "--name $1: one host or address, not a network (no /prefix)" ;;
        *:*)
            is_ipv6 "$n" || usage_error "--name $1: not an IPv6 address (write it in hexadecimal, without %zone)"
            type=IP ;;
        *[!0-9.]*)
            n=${n%.}
            is_dns_name "$n" || usage_error "--name $1: not a valid host name (letters, digits, '-' and '.')"
            refuse_public_suffix "$1" "$n"
            type=DNS ;;
        *)
            is_ipv4 "$n" || usage_error "--name $1: not an IPv4 address (a.b.c.d, each 0-255, no leading zeros)"
            type=IP ;;
    esac
    case $n in
        # Already in every certificate and permitted by the CA.
        localhost|127.0.0.1|::1) return 0 ;;
    esac
    for i in ${names[@]+"${names[@]}"}; do
        [ "$i" != "$n" ] || return 0
    done
    names+=("$n")
    name_types+=("$type")
}

# ---------------------------------------------------------------- arguments
force=0
gallery=0
outdir=
outdir_set=0
end_of_options=0
while [ "$#" -gt 0 ]; do
    arg=$1
    shift
    if [ "$end_of_options" = 0 ]; then
        case $arg in
            --force) force=1; continue ;;
            --gallery) gallery=1; continue ;;
            --name)
                [ "$#" -gt 0 ] || usage_error "--name needs a host name or an IP address"
                add_name "$1"
                shift
                continue ;;
            --name=*) add_name "${arg#--name=}"; continue ;;
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
[ -r "$client_cnf" ] || die "cannot read $client_cnf"
if [ "$gallery" = 1 ]; then
    [ -r "$gallery_cnf" ] || die "cannot read $gallery_cnf"
    [ -r "$gallery_tsv" ] || die "cannot read $gallery_tsv"
fi

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

cert_fingerprint() {
    openssl x509 -in "$1" -noout -fingerprint -sha256 2>/dev/null
}

# ---------------------------------------------------------------- gallery table
# gallery.tsv: one scenario a line (see the comments at its top). Check its
# rows once, so that the functions below can trust them.
gallery_table_check() {
    local name expected seclevel crl curl_exit ossl_v gnutls_v desc line=0 names_seen=' '
    while IFS=$'\t' read -r name expected seclevel crl curl_exit ossl_v gnutls_v desc; do
        line=$((line + 1))
        case $name in '#'*|'') continue ;; esac
        if ! [[ $name =~ ^[a-z0-9][a-z0-9-]*$ && $expected =~ ^[0-9]+$ &&
            $seclevel =~ ^[0-5]$ && $crl =~ ^(yes|no)$ && $curl_exit =~ ^[0-9]+$ &&
            $ossl_v =~ ^[0-9]+$ && $gnutls_v =~ ^(accept|reject)$ && -n $desc ]]; then
            die "$gallery_tsv line $line: expected 8 tab-separated columns: name expected seclevel crl(yes/no) curl_exit openssl_verdict gnutls_verdict(accept/reject) description"
        fi
        case $names_seen in *" $name "*) die "$gallery_tsv line $line: scenario $name twice" ;; esac
        names_seen="$names_seen$name "
    done <"$gallery_tsv"
    [ "$names_seen" != ' ' ] || die "$gallery_tsv has no scenarios"
}

# index.tsv: the rows of gallery.tsv with the file names after the scenario
# name, under one header line.
gallery_index() {
    local name rest
    printf '#%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' name cert_chain_file key_file \
        expected seclevel crl curl_exit openssl_verdict gnutls_verdict description
    while IFS=$'\t' read -r name rest; do
        case $name in '#'*|'') continue ;; esac
        printf '%s\t%s\t%s\t%s\n' "$name" "$name.chain.pem" "$name.key" "$rest"
    done <"$gallery_tsv"
}

# The first error "openssl verify" reports for one scenario (0 = none), as an
# OpenSSL client at security level 2 sees it: trusting gallery/trust.pem,
# checking the name localhost and, with crl = yes, gallery/crl.pem. Its
# chain file (the leaf and what the server sends) is the -untrusted pool.
gallery_verify() { # GALLERY_DIR CHAIN_FILE yes|no
    local out rc=0 code crl_args=()
    [ "$3" != yes ] || crl_args=(-crl_check -CRLfile crl.pem)
    out=$(cd -- "$1" && openssl verify -CAfile trust.pem ${crl_args[@]+"${crl_args[@]}"} \
        -purpose sslserver -verify_hostname localhost -auth_level 2 \
        -untrusted "$2" "$2" 2>&1) || rc=$?
    code=$(printf '%s\n' "$out" | sed -n 's/^error \([0-9][0-9]*\) at .*/\1/p' | sed -n 1p)
    if [ -n "$code" ]; then
        printf '%s' "$code"
    elif [ "$rc" = 0 ]; then
        printf 0
    else
        printf '?'
    fi
}

# Does the gallery in DIR belong to the CA certificate CA_CRT, and does every
# scenario still give its expected verdict? Prints why not.
gallery_check() { # DIR CA_CRT
    local g=$1 name chain key expected crl got f
    [ -f "$g/index.tsv" ] || { printf 'it has no index.tsv'; return 1; }
    cmp -s "$g/index.tsv" <(gallery_index) ||
        { printf 'its index.tsv is not the one %s makes now' "${gallery_tsv##*/}"; return 1; }
    for f in trust.pem crl.pem; do
        [ -f "$g/$f" ] || { printf 'it has no %s' "$f"; return 1; }
    done
    [ "$(cert_fingerprint "$g/trust.pem")" = "$(cert_fingerprint "$2")" ] ||
        { printf 'it was made with another demo CA'; return 1; }
    while IFS=$'\t' read -r name chain key expected _ crl _; do
        case $name in '#'*|'') continue ;; esac
        for f in "$name.crt" "$chain" "$key"; do
            [ -f "$g/$f" ] || { printf 'it has no %s' "$f"; return 1; }
        done
        key_matches_cert "$g/$key" "$g/$chain" ||
            { printf '%s does not belong to %s' "$key" "$chain"; return 1; }
        got=$(gallery_verify "$g" "$chain" "$crl")
        [ "$got" = "$expected" ] ||
            { printf '%s: openssl verify now says %s, expected %s' "$name" "$got" "$expected"; return 1; }
    done <"$g/index.tsv"
}

# ---------------------------------------------------------------- plan
# What to do for each pair: "new" (new key and certificate), "crt" (a new
# certificate for the existing key) or "keep". The gallery: "no", "new" or
# "keep".
ca_do=new server_do=new selfsigned_do=new server_rsa_do=new client_do=new gallery_do=no
notes=()

# Decide for server/selfsigned/client when the CA is kept: only what is missing.
leaf_plan() {
    local n=$1 v=${1//-/_}
    if have "$n.key" && have "$n.crt"; then
        key_matches_cert "$outdir/$n.key" "$outdir/$n.crt" ||
            die "$outdir/$n.key does not belong to $outdir/$n.crt (or cannot be read); use --force to make new ones"
        printf -v "${v}_do" %s keep
        notes+=("keeping $n.key and $n.crt")
    elif have "$n.key"; then
        openssl pkey -in "$outdir/$n.key" -noout >/dev/null 2>&1 ||
            die "cannot read the private key $outdir/$n.key; use --force to make new ones"
        printf -v "${v}_do" %s crt
        notes+=("making $n.crt for the existing $n.key")
    elif have "$n.crt"; then
        notes+=("making $n.key and $n.crt ($n.crt without its key is of no use: replacing it)")
    else
        notes+=("making $n.key and $n.crt")
    fi
}

# The --name names, for messages: "teacher.lan, 192.168.1.10".
names_list() {
    local IFS=,
    printf '%s' "${names[*]}" | sed 's/,/, /g'
}

# Has the existing server.crt all the --name names, and does it verify against
# the existing CA (which then permits them: verify checks name constraints)?
server_has_names() {
    local i flag out
    openssl verify -CAfile "$outdir/ca.crt" "$outdir/server.crt" >/dev/null 2>&1 || return 1
    for i in "${!names[@]}"; do
        if [ "${name_types[i]}" = IP ]; then flag=-checkip; else flag=-checkhost; fi
        out=$(openssl x509 -in "$outdir/server.crt" -noout "$flag" "${names[i]}" 2>/dev/null) ||
            return 1
        case $out in *' does match '*) ;; *) return 1 ;; esac
    done
}

[ "$gallery" = 0 ] || gallery_table_check

if [ "$force" = 0 ]; then
    if have ca.key || have ca.crt; then
        have ca.key || die "$outdir has ca.crt but no ca.key: cannot sign with this CA; use --force to make a new CA"
        have ca.crt || die "$outdir has ca.key but no ca.crt; use --force to make a new CA"
        # Whoever can read ca.key can sign a certificate every machine that trusts ca.crt accepts.
        ca_key_mode=$(stat -L -c %a -- "$outdir/ca.key")
        if [ ! -O "$outdir/ca.key" ] || (( 8#$ca_key_mode & 8#044 )); then
            die "$outdir/ca.key can be read by other users (mode $ca_key_mode, owner $(stat -L -c %U -- "$outdir/ca.key")): whoever read it can sign certificates that every machine trusting ca.crt accepts; refusing to reuse it: use --force to make a new CA (and remove the old ca.crt from where it was installed)"
        fi
        key_matches_cert "$outdir/ca.key" "$outdir/ca.crt" ||
            die "$outdir/ca.key does not belong to $outdir/ca.crt (or cannot be read); use --force to make a new CA"
        ca_do=keep
        leaf_plan server
        leaf_plan selfsigned
        leaf_plan server-rsa
        leaf_plan client
        if [ "${#names[@]}" -gt 0 ]; then
            if [ "$server_do" = keep ] && server_has_names; then
                notes+=("server.crt already names $(names_list), and the CA permits them")
            else
                printf '%s: error: --name needs a new CA, and %s has one: rerun with --force\n' \
                    "$prog" "$outdir" >&2
                cat >&2 <<EOF
  The names a CA may vouch for (its name constraints) are part of ca.crt, so
  adding $(names_list) means a new CA. --force replaces ca.crt and everything
  it signed: every browser or client that trusted the old ca.crt must be given
  the new one. Nothing was changed in $outdir.
EOF
                exit 1
            fi
        fi
    fi
    if [ "$gallery" = 1 ]; then
        gallery_do=new
        if [ "$ca_do" = keep ] && have gallery; then
            if why=$(gallery_check "$outdir/gallery" "$outdir/ca.crt"); then
                gallery_do=keep
                notes+=("keeping gallery/ (every scenario still gives its expected verdict)")
            else
                notes+=("making gallery/ anew: $why")
            fi
        elif [ "$ca_do" = keep ]; then
            notes+=("making gallery/")
        fi
    fi
    if [ "$ca_do$server_do$selfsigned_do$server_rsa_do$client_do" = keepkeepkeepkeepkeep ] &&
        [ "$gallery_do" != new ]; then
        say "certificates already present in $outdir (use --force to make new ones)"
        for note in "${notes[@]}"; do
            case $note in keeping\ gallery*|server.crt\ already*) say "$note" ;; esac
        done
        for f in ca.crt server.crt selfsigned.crt server-rsa.crt client.crt; do
            if ! openssl x509 -in "$outdir/$f" -noout -checkend 0 >/dev/null 2>&1; then
                printf '%s: warning: %s has expired; use --force to make new ones\n' \
                    "$prog" "$outdir/$f" >&2
            fi
        done
        warn_public_suffix_ca
        exit 0
    fi
elif [ "$gallery" = 1 ]; then
    gallery_do=new
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
    what=${n//-/_}_do
    if [ "${!what}" = new ] || { [ "${!what}" = crt ] && [ "$ext" = crt ]; }; then
        printf '%s' "$tmp/$n.$ext"
    else
        printf '%s' "$outdir/$n.$ext"
    fi
}

# A UTC time, SECONDS since 1970, as openssl ca -startdate/-enddate want it.
utc_time() {
    date -u -d "@$1" +%Y%m%d%H%M%SZ 2>/dev/null ||  # GNU date
        date -u -r "$1" +%Y%m%d%H%M%SZ 2>/dev/null ||  # BSD date
        die "date(1) cannot format the time $1"
}

# ---------------------------------------------------------------- gallery: make
gallery_key() { # FILE ec|rsa2048|rsa1024
    case $2 in
        ec) new_key "$1" ;;
        rsa2048) ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" ;;
        rsa1024) ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$1" ;;
        *) die "gallery_key: unknown key type $2" ;;
    esac
}

# A self-signed certificate (the gallery's root CAs, the self-signed leaf):
# KEY SUBJECT EXTENSIONS DAYS OUT
gallery_selfsign() {
    ossl req -new -x509 -config "$gallery_cnf" -extensions "$3" -sha256 \
        -key "$1" -subj "$2" -days "$4" -out "$5"
}

# A certificate signed by ISSUER with "x509 -req" (random serial number):
# KEY SUBJECT EXTENSIONS ISSUER_CRT ISSUER_KEY OUT [DIGEST]
gallery_sign() {
    ossl req -new -config "$gallery_cnf" -key "$1" -subj "$2" -out "$gw/req.csr"
    ossl x509 -req -in "$gw/req.csr" -CA "$4" -CAkey "$5" "-${7:-sha256}" \
        -days "$leaf_days" -extfile "$gallery_cnf" -extensions "$3" -out "$6"
}

# A certificate signed by the demo CA with "openssl ca", the only OpenSSL 3.0
# command that sets both dates: KEY SUBJECT EXTENSIONS NOT_BEFORE NOT_AFTER OUT
gallery_ca_sign() {
    ossl req -new -config "$gallery_cnf" -key "$1" -subj "$2" -out "$gw/req.csr"
    (cd -- "$gw" && ossl ca -batch -config "$gallery_cnf" -cert "$ca_crt" -keyfile "$ca_key" \
        -notext -preserveDN -extensions "$3" -startdate "$4" -enddate "$5" \
        -in "$gw/req.csr" -out "$6")
}

# Make the gallery in $tmp/gallery, one scenario per row of gallery.tsv, with
# the demo CA $ca_crt/$ca_key. The gallery's own CA keys stay in $gw and are
# deleted with it.
gallery_make() {
    local g=$tmp/gallery name rest key crt subj now day=86400 send
    gw=$tmp/gallery-work
    mkdir -- "$g" "$gw" "$gw/newcerts"
    : >"$gw/index.txt"
    printf '01\n' >"$gw/crlnumber"
    now=$(date +%s)

    # good-chain and incomplete-chain: leaf <- intermediate <- gallery root,
    # which the client is given (trust.pem); the demo CA (pathlen:0) cannot
    # have an intermediate below it.
    new_key "$gw/gallery-root-ca.key"
    gallery_selfsign "$gw/gallery-root-ca.key" \
        '/O=handshake-lab gallery/CN=handshake-lab gallery root CA' \
        gallery_root_ext "$ca_days" "$g/gallery-root-ca.crt"
    new_key "$gw/gallery-intermediate-ca.key"
    gallery_sign "$gw/gallery-intermediate-ca.key" \
        '/O=handshake-lab gallery/CN=handshake-lab gallery intermediate CA' \
        intermediate_ext "$g/gallery-root-ca.crt" "$gw/gallery-root-ca.key" \
        "$g/gallery-intermediate-ca.crt"
    # untrusted-root: a root the client is not given.
    new_key "$gw/untrusted-root-ca.key"
    gallery_selfsign "$gw/untrusted-root-ca.key" \
        '/O=handshake-lab untrusted/CN=handshake-lab untrusted CA' \
        untrusted_root_ext "$ca_days" "$g/untrusted-root-ca.crt"

    while IFS=$'\t' read -r name rest; do
        case $name in '#'*|'') continue ;; esac
        key=$g/$name.key crt=$g/$name.crt
        subj="/O=handshake-lab gallery/OU=$name/CN=localhost"
        send=  # a CA certificate the server sends after the leaf
        case $name in
            ca-signed)
                gallery_key "$key" ec
                gallery_sign "$key" "$subj" leaf_ext "$ca_crt" "$ca_key" "$crt" ;;
            ca-signed-rsa)
                gallery_key "$key" rsa2048
                gallery_sign "$key" "$subj" leaf_rsa_ext "$ca_crt" "$ca_key" "$crt" ;;
            self-signed)
                gallery_key "$key" ec
                gallery_selfsign "$key" "$subj" selfsigned_ext "$leaf_days" "$crt" ;;
            untrusted-root)
                gallery_key "$key" ec
                gallery_sign "$key" "$subj" leaf_ext "$g/untrusted-root-ca.crt" \
                    "$gw/untrusted-root-ca.key" "$crt"
                send=$g/untrusted-root-ca.crt ;;
            incomplete-chain)
                gallery_key "$key" ec
                gallery_sign "$key" "$subj" leaf_ext "$g/gallery-intermediate-ca.crt" \
                    "$gw/gallery-intermediate-ca.key" "$crt" ;;
            good-chain)
                gallery_key "$key" ec
                gallery_sign "$key" "$subj" leaf_ext "$g/gallery-intermediate-ca.crt" \
                    "$gw/gallery-intermediate-ca.key" "$crt"
                send=$g/gallery-intermediate-ca.crt ;;
            expired)
                # Valid for 397 days, which ended 30 days ago.
                gallery_key "$key" ec
                gallery_ca_sign "$key" "$subj" leaf_ext \
                    "$(utc_time $((now - (leaf_days + 30) * day)))" \
                    "$(utc_time $((now - 30 * day)))" "$crt" ;;
            not-yet-valid)
                # Valid from two years from now: later than any other gallery
                # certificate expires, so it never turns valid while in use.
                gallery_key "$key" ec
                gallery_ca_sign "$key" "$subj" leaf_ext \
                    "$(utc_time $((now + 730 * day)))" \
                    "$(utc_time $((now + (730 + leaf_days) * day)))" "$crt" ;;
            wrong-host)
                gallery_key "$key" ec
                gallery_sign "$key" "/O=handshake-lab gallery/OU=$name/CN=wrong.localhost" \
                    wrong_host_ext "$ca_crt" "$ca_key" "$crt" ;;
            name-constraints)
                gallery_key "$key" ec
                gallery_sign "$key" "/O=handshake-lab gallery/OU=$name/CN=example.com" \
                    example_ext "$ca_crt" "$ca_key" "$crt" ;;
            wrong-purpose)
                gallery_key "$key" ec
                gallery_sign "$key" "$subj" client_only_ext "$ca_crt" "$ca_key" "$crt" ;;
            revoked)
                gallery_key "$key" ec
                gallery_sign "$key" "$subj" leaf_ext "$ca_crt" "$ca_key" "$crt"
                (cd -- "$gw" && ossl ca -config "$gallery_cnf" -cert "$ca_crt" \
                    -keyfile "$ca_key" -revoke "$crt" -crl_reason keyCompromise) ;;
            weak-key)
                gallery_key "$key" rsa1024
                gallery_sign "$key" "$subj" leaf_rsa_ext "$ca_crt" "$ca_key" "$crt" ;;
            sha1)
                gallery_key "$key" ec
                gallery_sign "$key" "$subj" leaf_ext "$ca_crt" "$ca_key" "$crt" sha1 ;;
            no-san)
                gallery_key "$key" ec
                gallery_sign "$key" "$subj" no_san_ext "$ca_crt" "$ca_key" "$crt" ;;
            *)
                die "$gallery_tsv: there is no recipe for the scenario '$name' in $prog" ;;
        esac
        if [ -n "$send" ]; then
            cat -- "$crt" "$send" >"$g/$name.chain.pem"
        else
            cat -- "$crt" >"$g/$name.chain.pem"
        fi
    done <"$gallery_tsv"

    # The CRL: the demo CA's list of revoked serial numbers, signed by ca.key.
    (cd -- "$gw" && ossl ca -gencrl -config "$gallery_cnf" -cert "$ca_crt" \
        -keyfile "$ca_key" -crldays "$leaf_days" -out "$g/crl.pem")
    # What a client of the gallery trusts: the demo CA and the gallery root
    # (not the untrusted root).
    cat -- "$ca_crt" "$g/gallery-root-ca.crt" >"$g/trust.pem"
    gallery_index >"$g/index.tsv"
}

# ---------------------------------------------------------------- make
made="ca, server, selfsigned, server-rsa, client"
[ "$gallery_do" != new ] || made="$made, gallery"
if [ "$ca_do" = new ]; then
    if [ "$force" = 1 ]; then
        say "making new certificates in $outdir (--force): $made"
    else
        say "making certificates in $outdir: $made"
    fi
else
    say "keeping the existing CA in $outdir (ca.key, ca.crt; --force makes a new one)"
    for note in "${notes[@]}"; do
        say "$note"
    done
fi

# --name: temporary copies of ca.cnf and server.cnf with the extra names added
# to [ ca_permitted ] (the CA's name constraints) and [ server_names ] (the
# subjectAltName of server.crt and selfsigned.crt).
if [ "${#names[@]}" -gt 0 ]; then
    mkdir -- "$tmp/cnf"
    {
        cat -- "$ca_cnf"
        printf '\n[ ca_permitted ]\n# added by make-certs.sh --name\n'
        for i in "${!names[@]}"; do
            case ${name_types[i]}:${names[i]} in
                IP:*:*) printf 'permitted;IP.%d = %s/%s\n' $((11 + i)) "${names[i]}" \
                            ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ;;
                IP:*) printf 'permitted;IP.%d = %s/255.255.255.255\n' $((11 + i)) "${names[i]}" ;;
                *) printf 'permitted;DNS.%d = %s\n' $((11 + i)) "${names[i]}" ;;
            esac
        done
    } >"$tmp/cnf/ca.cnf"
    {
        cat -- "$server_cnf"
        printf '\n[ server_names ]\n# added by make-certs.sh --name\n'
        for i in "${!names[@]}"; do
            printf '%s.%d = %s\n' "${name_types[i]}" $((11 + i)) "${names[i]}"
        done
    } >"$tmp/cnf/server.cnf"
    ca_cnf=$tmp/cnf/ca.cnf
    server_cnf=$tmp/cnf/server.cnf
fi

if [ "$ca_do" = new ]; then
    new_key "$tmp/ca.key"
    ossl req -new -x509 -config "$ca_cnf" -extensions v3_ca -sha256 \
        -key "$tmp/ca.key" -subj "$ca_subject" -days "$ca_days" -out "$tmp/ca.crt"
fi
ca_key=$(src ca key) ca_crt=$(src ca crt)
server_key=$(src server key) server_crt=$(src server crt)
selfsigned_key=$(src selfsigned key)
server_rsa_key=$(src server-rsa key) server_rsa_crt=$(src server-rsa crt)
client_key=$(src client key) client_crt=$(src client crt)

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

# The RSA server certificate: the same names as server.crt, but an RSA key that
# may also decrypt (keyEncipherment), for TLS 1.2 RSA key transport.
if [ "$server_rsa_do" != keep ]; then
    [ "$server_rsa_do" = crt ] ||
        ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$server_rsa_key"
    ossl req -new -config "$server_cnf" -sha256 \
        -key "$server_rsa_key" -subj "$server_subject" -out "$tmp/server-rsa.csr"
    ossl x509 -req -in "$tmp/server-rsa.csr" -CA "$ca_crt" -CAkey "$ca_key" -sha256 \
        -days "$leaf_days" -extfile "$server_cnf" -extensions server_rsa_ext \
        -out "$server_rsa_crt"
fi

if [ "$client_do" != keep ]; then
    [ "$client_do" = crt ] || new_key "$client_key"
    ossl req -new -config "$client_cnf" -sha256 \
        -key "$client_key" -subj "$client_subject" -out "$tmp/client.csr"
    ossl x509 -req -in "$tmp/client.csr" -CA "$ca_crt" -CAkey "$ca_key" -sha256 \
        -days "$leaf_days" -extfile "$client_cnf" -extensions client_ext \
        -out "$client_crt"
fi

# ---------------------------------------------------------------- check
# The server and client certificates must verify against the CA before
# anything is installed (this also catches an old server.crt from another CA,
# or an expired CA).
if ! out=$(openssl verify -CAfile "$ca_crt" "$server_crt" 2>&1); then
    printf '%s\n' "$out" >&2
    die "server.crt does not verify against ca.crt; nothing was changed in $outdir (use --force to make everything anew)"
fi
if ! out=$(openssl verify -CAfile "$ca_crt" -purpose sslserver "$server_rsa_crt" 2>&1); then
    printf '%s\n' "$out" >&2
    die "server-rsa.crt does not verify against ca.crt; nothing was changed in $outdir (use --force to make everything anew)"
fi
if ! out=$(openssl verify -CAfile "$ca_crt" -purpose sslclient "$client_crt" 2>&1); then
    printf '%s\n' "$out" >&2
    die "client.crt does not verify against ca.crt as a client certificate; nothing was changed in $outdir (use --force to make everything anew)"
fi

# The gallery, made and checked only now that the CA is known to be good:
# every scenario must give its expected verdict (openssl verify).
if [ "$gallery_do" = new ]; then
    gallery_make
    if ! why=$(gallery_check "$tmp/gallery" "$ca_crt"); then
        die "the new gallery does not give the verdicts of $gallery_tsv ($why); nothing was changed in $outdir"
    fi
fi

# ---------------------------------------------------------------- install
install_pair() {
    local n=$1 what=${1//-/_}_do
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
install_pair server-rsa
install_pair client

if [ "$gallery_do" = new ]; then
    chmod 0644 "$tmp/gallery"/*
    chmod 0600 "$tmp/gallery"/*.key
    chmod 0755 "$tmp/gallery"
    # A directory cannot be renamed over a non-empty one: move the old gallery
    # into the temporary directory (deleted at exit), then the new one in.
    if [ -e "$outdir/gallery" ] || [ -L "$outdir/gallery" ]; then
        mv -f -- "$outdir/gallery" "$tmp/gallery.old"
    fi
    mv -- "$tmp/gallery" "$outdir/gallery"
    say "wrote $outdir/gallery/ (keys mode 0600): index.tsv, trust.pem, crl.pem and per scenario NAME.key, NAME.crt, NAME.chain.pem"
fi

# ---------------------------------------------------------------- report
say ""
say "\$ openssl verify -CAfile ca.crt server.crt    (in $outdir)"
(cd -- "$outdir" && openssl verify -CAfile ca.crt server.crt) ||
    die "openssl verify -CAfile ca.crt server.crt failed in $outdir"
say "\$ openssl verify -CAfile ca.crt -purpose sslclient client.crt"
(cd -- "$outdir" && openssl verify -CAfile ca.crt -purpose sslclient client.crt) ||
    die "openssl verify -CAfile ca.crt -purpose sslclient client.crt failed in $outdir"

for f in ca.crt server.crt selfsigned.crt server-rsa.crt client.crt; do
    say ""
    say "$f:"
    openssl x509 -in "$outdir/$f" -noout -nameopt oneline,-esc_msb \
        -subject -issuer -startdate -enddate -fingerprint -sha256 |
        sed 's/^/  /' ||
        die "cannot read $outdir/$f"
done

ca_show=$(shquote "$show_dir/ca.crt")
client_crt_show=$(shquote "$show_dir/client.crt")
client_key_show=$(shquote "$show_dir/client.key")
if [ "$is_default" = 1 ]; then
    where=" (run from the repository root)"
    certs_opt=
else
    where=
    certs_opt=" --certs $(shquote "$show_dir")"
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
EOF

# The names the CA may vouch for, as the CA certificate says: only the three
# loopback ones, or more (--name, now or when the CA was made).
permitted=$(openssl x509 -in "$outdir/ca.crt" -noout -ext nameConstraints 2>/dev/null |
    sed -n 's/^ *\(DNS:\|IP:\)/\1/p') || permitted=
permitted_count=$(printf '%s\n' "$permitted" | grep -c . || true)
if [ "$permitted_count" -le 3 ]; then
    cat <<EOF

The CA carries critical name constraints: it can only vouch for localhost
(and *.localhost), 127.0.0.0/8 and ::1. A certificate it signs for any other
name is rejected (OpenSSL error 47, "permitted subtree violation"), so
trusting it cannot be abused for real sites. Still keep ca.key private.
EOF
else
    # Each permitted name spelled out: what exactly the CA can vouch for.
    lan=
    while IFS= read -r p; do
        case $p in
            DNS:*)
                p=${p#DNS:}
                lan+="    $p and every name under it (*.$p, at any depth)"$'\n' ;;
            IP:*/255.255.255.255|IP:*/FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF)
                p=${p#IP:}
                lan+="    ${p%/*} (this one address)"$'\n' ;;
            IP:*)
                lan+="    ${p#IP:} (address/mask)"$'\n' ;;
            *)  lan+="    $p"$'\n' ;;
        esac
    done < <(printf '%s\n' "$permitted" | sed -n '4,$p')
    lan=${lan%$'\n'}
    if [ "${#names[@]}" -gt 0 ]; then
        first_lan=${names[0]}
    else
        first_lan=$(printf '%s\n' "$permitted" | sed -n '4s/^[A-Z]*:\([^/]*\).*/\1/p' |
            tr '[:upper:]' '[:lower:]')
    fi
    case $first_lan in *:*) first_lan="[$first_lan]" ;; esac
    cat <<EOF

The CA carries critical name constraints: it can only vouch for localhost
(and *.localhost), 127.0.0.0/8, ::1 and these LAN names (--name), no more:
$lan
A certificate it signs for any other name is rejected (OpenSSL error 47,
"permitted subtree violation").

The trade-off of a class CA: everyone who trusts ca.crt trusts whoever holds
ca.key for exactly these names - on any network. On another LAN (at home, in
a cafe) the same names or addresses may be somebody else's machine, and a
certificate from this CA would still be accepted for it. Nothing else can be
faked with it. So: choose specific names, keep ca.key on the teacher's
machine only, and have the class remove the CA when the course is over.
Students connect with, e.g. (the server must listen on the LAN address):
  build/client --cacert $ca_show https://$first_lan:8443/
EOF
    warn_public_suffix_ca
fi

cat <<EOF

selfsigned.crt is trusted by nothing on purpose: serve it to show the
"self-signed certificate" error (OpenSSL error 18).

server-rsa.crt (RSA-2048, keyEncipherment) is for the textbook's key
exchange, TLS 1.2 RSA key transport$where:
  build/server$certs_opt --rsa-port 8445
  build/client --cacert $ca_show --tls-max 1.2 --kx rsa https://localhost:8445/

client.crt (CN=handshake-lab student, extendedKeyUsage clientAuth) is for
mutual TLS: a server that asks for a client certificate and accepts the demo
CA's accepts it$where:
  build/server$certs_opt --client-auth require --client-ca $ca_show
  build/client --cacert $ca_show --cert $client_crt_show --key $client_key_show https://localhost:8443/
  curl --cacert $ca_show --cert $client_crt_show --key $client_key_show https://localhost:8443/
EOF

if [ "$gallery" = 1 ]; then
    g_show=$show_dir/gallery
    say ""
    say "The certificate gallery in $outdir/gallery (index.tsv: files and each peer's verdict);"
    say "expected first error of an OpenSSL client that trusts gallery/trust.pem (0 = ok):"
    while IFS=$'\t' read -r name _ _ expected seclevel crl _; do
        case $name in '#'*|'') continue ;; esac
        extra=
        [ "$crl" != yes ] || extra=" (the client checks gallery/crl.pem)"
        [ "$seclevel" = 2 ] || extra=" (the server needs @SECLEVEL=$seclevel to load it)"
        printf '  %-18s %3s%s\n' "$name" "$expected" "$extra"
    done <"$outdir/gallery/index.tsv"
    cat <<EOF
Try one$where:
  openssl s_server -accept 127.0.0.1:8450 -www \\
      -cert $(shquote "$g_show/expired.crt") -key $(shquote "$g_show/expired.key")
  curl --cacert $(shquote "$g_show/trust.pem") https://localhost:8450/
(openssl s_server -cert sends only the first certificate of its file: for
good-chain and untrusted-root add the CA certificate the server sends, e.g.
-cert_chain $(shquote "$g_show/gallery-intermediate-ca.crt") for good-chain.)
EOF
elif [ "$ca_do" = new ] && [ -d "$outdir/gallery" ]; then
    say ""
    printf '%s: note: %s/gallery was made with the old CA; --gallery makes it anew\n' \
        "$prog" "$outdir" >&2
fi
