#!/bin/sh
# 启动便民服务站（开机启动也运行这个文件）。启动时若软件已升级，先复制数据库再升级。
HOME_DIR=$(cd "$(dirname "$0")" && pwd)
STATION_PORT=8080
[ -f "$HOME_DIR/station.env" ] && . "$HOME_DIR/station.env"
exec "$HOME_DIR/venv/bin/python" -m station --instance "$HOME_DIR/instance" run --host 127.0.0.1 --port "$STATION_PORT"
