#!/bin/sh
# The same three roles as the private cluster of ./rwe: owner (migrations, loads), app (portal, no BYPASSRLS),
# reader (analysis SQL). Runs once, when the volume is first initialised.
set -eu
psql -v ON_ERROR_STOP=1 --username postgres <<SQL
CREATE ROLE rwe_owner LOGIN CREATEDB PASSWORD '${RWE_OWNER_PASSWORD}';
CREATE ROLE rwe_app LOGIN NOBYPASSRLS PASSWORD '${RWE_APP_PASSWORD}';
CREATE ROLE rwe_reader LOGIN NOBYPASSRLS PASSWORD '${RWE_READER_PASSWORD}';
CREATE DATABASE rweportal OWNER rwe_owner;
SQL
