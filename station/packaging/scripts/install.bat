@echo off
rem 便民服务站 离线安装 / 升级（Windows 10/11 64 位）：不需要联网，不需要管理员权限。
rem 双击运行。可选：set STATION_HOME=安装位置（默认 %LOCALAPPDATA%\BianminStation）、set STATION_PORT=8080
setlocal
set "HERE=%~dp0"
if "%STATION_HOME%"=="" set "STATION_HOME=%LOCALAPPDATA%\BianminStation"
if "%STATION_PORT%"=="" set "STATION_PORT=8080"

set "PY="
if exist "%STATION_HOME%\python\python.exe" set "PY=%STATION_HOME%\python\python.exe"
if not defined PY (
  py -3.11 -c "import venv" >nul 2>&1 && set "PY=py -3.11"
)
if not defined PY (
  for %%F in ("%HERE%python\python-3.11*-amd64.exe") do (
    echo 正在为当前用户安装 Python 3.11（不需要管理员权限）……
    "%%~fF" /quiet InstallAllUsers=0 Include_launcher=0 PrependPath=0 Shortcuts=0 Include_test=0 TargetDir="%STATION_HOME%\python"
    set "PY=%STATION_HOME%\python\python.exe"
  )
)
if not defined PY (
  echo 未找到 Python 3.11。请把 Python 3.11 安装程序放到本文件夹的 python 子文件夹，或先安装 Python 3.11。
  pause
  exit /b 1
)

set "FIRST=1"
if exist "%STATION_HOME%\instance\station.sqlite3" set "FIRST=0"
rem 升级时先关闭正在运行的服务站窗口
if "%FIRST%"=="0" taskkill /FI "WINDOWTITLE eq BianminStation*" >nul 2>&1

echo 正在安装到 %STATION_HOME% ……
if not exist "%STATION_HOME%" mkdir "%STATION_HOME%"
if not exist "%STATION_HOME%\venv\Scripts\python.exe" %PY% -m venv "%STATION_HOME%\venv" || goto :failed
"%STATION_HOME%\venv\Scripts\python.exe" -m pip install --quiet --disable-pip-version-check --no-index --find-links "%HERE%wheels" --upgrade bianmin-station || goto :failed
rem 加速组件：本平台有安装包就装，没有就用纯 Python（功能相同，稍慢）
for /f "usebackq delims=" %%L in ("%HERE%speedups.txt") do (
  "%STATION_HOME%\venv\Scripts\python.exe" -m pip install --quiet --disable-pip-version-check --no-index --find-links "%HERE%wheels" "%%L" >nul 2>&1
)
copy /Y "%HERE%start.bat" "%STATION_HOME%\start.bat" >nul
> "%STATION_HOME%\station-port.txt" echo %STATION_PORT%

rem 初始化数据库；已有数据库时先复制一份再升级，排队的办件都保留
"%STATION_HOME%\venv\Scripts\python.exe" -m station --instance "%STATION_HOME%\instance" init || goto :failed
if "%FIRST%"=="1" (
  echo 请为站长（管理员）设置登录密码：
  "%STATION_HOME%\venv\Scripts\python.exe" -m station --instance "%STATION_HOME%\instance" create-user admin --name 站长 --role admin || goto :failed
)

if not "%STATION_NO_AUTOSTART%"=="1" (
  rem 开机（登录）启动：任务计划程序里当前用户的任务；不允许时放进“启动”文件夹
  schtasks /Create /F /SC ONLOGON /RL LIMITED /TN "BianminStation" /TR "\"%STATION_HOME%\start.bat\"" >nul 2>&1
  if errorlevel 1 (
    > "%APPDATA%\Microsoft\Windows\Start Menu\Programs\Startup\BianminStation.bat" echo @start "" /min "%STATION_HOME%\start.bat"
    echo 已设置登录后自动启动（“启动”文件夹）。
  ) else (
    echo 已设置登录后自动启动（任务计划程序：BianminStation）。
  )
)
echo 安装完成。双击 %STATION_HOME%\start.bat 启动，然后用浏览器打开 http://127.0.0.1:%STATION_PORT%/
start "" "%STATION_HOME%\start.bat"
pause
exit /b 0

:failed
echo 安装没有完成，请把上面的提示拍照发给县里的技术人员。
pause
exit /b 1
