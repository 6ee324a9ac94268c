#!/usr/bin/env bash
# Makes the certificates the RPC-with-TLS tests use, with OpenSSL, into
# DIR (made if missing):
#   ca.pem                 the test CA (ca.key its key)
#   server.pem/.key        SAN DNS:localhost, IP:127.0.0.1, IP:::1, by the CA
#   client.pem/.key        subject CN=client-1,O=xipc tests, SAN DNS:client-1.example and
#                          email:client-1@example.org, by the CA
#   other-ca.pem           a second CA nobody trusts
#   stranger.pem/.key      a server certificate by other-ca (unknown CA)
#   expired.pem/.key       a server certificate by the CA, valid only in 2020
#   expired-client.pem/.key  a client certificate by the CA (CN=expired-client), valid
#                          only in 2020
#   wrong-name.pem/.key    a server certificate by the CA for other.example
#   revoked.pem/.key       a client and server certificate by the CA (CN=revoked,
#                          SAN DNS:localhost too), and
#   ca.crl.pem             the CA's revocation list, naming revoked.pem
#   other-ca.crl.pem       the other CA's revocation list, naming nothing
# Usage: make_certs.sh DIR
set -euo pipefail
dir=${1:?usage: make_certs.sh DIR}
command -v openssl >/dev/null || {
    echo "make_certs: openssl is missing; install it (apt-get install openssl)" >&2
    exit 1
}
mkdir -p "$dir"
cd "$dir"

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$1" 2>/dev/null; }

ca() { # NAME CN
    key "$1.key"
    openssl req -x509 -new -key "$1.key" -subj "/CN=$2/O=xipc tests" -days 30 \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -out "$1.pem" 2>/dev/null
}

# leaf NAME CA SUBJECT SAN [START END]: a leaf certificate signed by CA
leaf() {
    local name=$1 issuer=$2 subject=$3 san=$4 start=${5:-} end=${6:-}
    key "$name.key"
    openssl req -new -key "$name.key" -subj "$subject" -out "$name.csr" 2>/dev/null
    cat >"$name.ext" <<EXT
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=$san
EXT
    if [[ -n $start ]]; then
        # `openssl ca` can date a certificate in the past; `x509 -req` cannot.
        mkdir -p "$name.db"
        : >"$name.db/index"
        echo 01 >"$name.db/serial"
        cat >"$name.cnf" <<CNF
[ ca ]
default_ca = test
[ test ]
database = $name.db/index
serial = $name.db/serial
new_certs_dir = $name.db
default_md = sha256
policy = any
copy_extensions = none
[ any ]
commonName = supplied
organizationName = optional
CNF
        openssl ca -batch -config "$name.cnf" -cert "$issuer.pem" -keyfile "$issuer.key" \
            -startdate "$start" -enddate "$end" -extfile "$name.ext" -notext \
            -in "$name.csr" -out "$name.pem" 2>/dev/null
        rm -rf "$name.db" "$name.cnf"
    else
        openssl x509 -req -in "$name.csr" -CA "$issuer.pem" -CAkey "$issuer.key" \
            -CAcreateserial -days 30 -extfile "$name.ext" -out "$name.pem" 2>/dev/null
    fi
    rm -f "$name.csr" "$name.ext"
}

ca ca "xipc test CA"
ca other-ca "an untrusted CA"
leaf server ca "/CN=localhost/O=xipc tests" "DNS:localhost,IP:127.0.0.1,IP:::1"
leaf client ca "/O=xipc tests/CN=client-1" "DNS:client-1.example,email:client-1@example.org"
leaf stranger other-ca "/CN=localhost/O=strangers" "DNS:localhost,IP:127.0.0.1"
leaf expired ca "/CN=localhost/O=xipc tests" "DNS:localhost,IP:127.0.0.1" 20200101000000Z 20200102000000Z
leaf expired-client ca "/O=xipc tests/CN=expired-client" "DNS:expired-client.example" \
    20200101000000Z 20200102000000Z
leaf wrong-name ca "/CN=other.example/O=xipc tests" "DNS:other.example"
leaf revoked ca "/O=xipc tests/CN=revoked" "DNS:revoked.example,DNS:localhost,IP:127.0.0.1"

# crl CA [CERT]: CA's revocation list, naming CERT if given.
crl() {
    local issuer=$1 cert=${2:-}
    mkdir -p "$issuer.db"
    : >"$issuer.db/index"
    echo 01 >"$issuer.db/number"
    # A v2 list, with a CRL number and the issuer's key identifier, as RFC
    # 5280 has CAs make them (and rustls accepts).
    cat >"$issuer.db/cnf" <<CNF
[ ca ]
default_ca = test
[ test ]
database = $issuer.db/index
crlnumber = $issuer.db/number
default_md = sha256
default_crl_days = 30
crl_extensions = crl_ext
[ crl_ext ]
authorityKeyIdentifier = keyid:always
CNF
    if [[ -n $cert ]]; then
        openssl ca -config "$issuer.db/cnf" -cert "$issuer.pem" -keyfile "$issuer.key" \
            -revoke "$cert" 2>/dev/null
    fi
    openssl ca -config "$issuer.db/cnf" -cert "$issuer.pem" -keyfile "$issuer.key" \
        -gencrl -out "$issuer.crl.pem" 2>/dev/null
    rm -rf "$issuer.db"
}
crl ca revoked.pem
crl other-ca
rm -f ./*.srl
