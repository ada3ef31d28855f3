; Curbdesk for Windows: the Inno Setup 6 installer around the PyInstaller bundle (dist\curbdesk).
;
; Build on Windows (Python 3.11 and Inno Setup 6 installed, ISCC.exe on the PATH or named by %ISCC%):
;     py -3.11 -m venv .venv && .venv\Scripts\pip install -e ".[dev]"
;     .venv\Scripts\python installer\build.py --iss
; which builds the bundle, smoke-tests it, then runs
;     ISCC /DAppVersion=<desktop.__version__> /DSourceDir=dist\curbdesk /Odist installer\curbdesk.iss
; and writes dist\curbdesk-<version>-setup.exe. The version comes from desktop/__init__.py only.
;
; What it installs: the program per machine under Program Files (administrators) or per user under
; %LOCALAPPDATA%\Programs (everyone else: the installer asks); Start-menu entries for Curbdesk and for its
; uninstaller; an optional desktop icon. Each user's data (database, evidence, logs, backups, the audit key)
; lives in that user's own folder, %LOCALAPPDATA%\Curbdesk\Curbdesk (platformdirs' user_data_dir), created on
; first start; the uninstaller removes the program and leaves every user's data (it holds the office).

#ifndef AppVersion
  #error Give the version: ISCC /DAppVersion=x.y.z (installer\build.py --iss does)
#endif
#ifndef SourceDir
  #define SourceDir "..\dist\curbdesk"
#endif

[Setup]
AppId={{6C7E2B0A-3F1D-4C8E-9A55-CB0D5E1A7F42}
AppName=Curbdesk
AppVersion={#AppVersion}
AppVerName=Curbdesk {#AppVersion}
AppPublisher=Curbdesk
DefaultDirName={autopf}\Curbdesk
DefaultGroupName=Curbdesk
DisableProgramGroupPage=yes
; per machine for administrators, per user otherwise (the dialog offers the choice)
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputBaseFilename=curbdesk-{#AppVersion}-setup
SetupIconFile=..\resources\branding\curbdesk.ico
UninstallDisplayIcon={app}\curbdesk.exe
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
; a running Curbdesk holds its files: ask to close it before replacing or removing them
CloseApplications=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
; the window without a console (curbdeskw.exe); curbdesk.exe is the same program for the command line
Name: "{group}\Curbdesk"; Filename: "{app}\curbdeskw.exe"; WorkingDir: "{app}"; Comment: "Parking enforcement back office"
Name: "{group}\Curbdesk command prompt"; Filename: "{cmd}"; Parameters: "/k ""{app}\curbdesk.exe"" --help"; WorkingDir: "{userdocs}"
Name: "{group}\{cm:UninstallProgram,Curbdesk}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\Curbdesk"; Filename: "{app}\curbdeskw.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\curbdeskw.exe"; Description: "{cm:LaunchProgram,Curbdesk}"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
; only what the program itself may leave beside its files; never %LOCALAPPDATA%\Curbdesk (the users' data)
Type: filesandordirs; Name: "{app}\__pycache__"
