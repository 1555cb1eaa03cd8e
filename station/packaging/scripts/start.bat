@echo off
rem 启动便民服务站（登录后自动启动也运行这个文件）。软件升级后第一次启动时，先复制数据库再升级。
title BianminStation
set "STATION_HOME=%~dp0"
set "STATION_PORT=8080"
if exist "%STATION_HOME%station-port.txt" set /p STATION_PORT=<"%STATION_HOME%station-port.txt"
set "PYTHONIOENCODING=utf-8"
"%STATION_HOME%venv\Scripts\python.exe" -m station --instance "%STATION_HOME%instance" run --host 127.0.0.1 --port %STATION_PORT%
