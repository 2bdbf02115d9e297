# moto server: AWS Secrets Manager and KMS for the awssm tests. Sourced by
# run.sh (see lib.sh). The version is pinned: moto's answers change between
# releases, and the tests pin the calls they cause.
MOTO_VERSION=5.2.5
if ! python3 -c "import sys, moto; sys.exit(moto.__version__ != '$MOTO_VERSION')" 2>/dev/null; then
	python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore "moto[server]==$MOTO_VERSION"
fi
moto_port=$(free_port)
# python3 -m rather than the moto_server script, which a pyenv or user
# install may leave off PATH.
start_bg moto python3 -m moto.server -H 127.0.0.1 -p "$moto_port"
wait_http "http://127.0.0.1:$moto_port/moto-api/" 60
export TOKENSTORE_MOTO_ENDPOINT="http://127.0.0.1:$moto_port"
