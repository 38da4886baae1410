; Inno Setup script for the Windows installer of fieldkit (a recipe: build it on Windows).
;
;   python dev.py package          (on Windows: PyInstaller folder and zip in dist\, then, when
;                                   Inno Setup 6's iscc.exe is on PATH, this installer)
;   iscc /DAppVersion=0.1.0 /DSourceDir=build\pyinstaller\dist\fieldkit /Odist packaging\windows\fieldkit.iss
;
; Installs per user (no administrator rights needed), into %LOCALAPPDATA%\Programs\fieldkit, with
; a Start-menu entry for the desktop program and `fieldkit` (the command line) in the folder.
; The uninstaller removes the program files only. The profile (encrypted records and evidence,
; %LOCALAPPDATA%\fieldkit\profile), the settings file and the log stay, and the uninstaller says
; so first, offering to stop so that the profile can be erased with `fieldkit erase`.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#ifndef SourceDir
  #define SourceDir "..\..\build\pyinstaller\dist\fieldkit"
#endif

[Setup]
AppId={{6F1D0C52-4B1E-4E8F-9C1A-F1E1DC17C0DE}
AppName=fieldkit
AppVersion={#AppVersion}
AppPublisher=fieldkit
DefaultDirName={localappdata}\Programs\fieldkit
DefaultGroupName=fieldkit
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
OutputBaseFilename=fieldkit-{#AppVersion}-windows-setup
SetupIconFile=fieldkit.ico
UninstallDisplayIcon={app}\fieldkit-desktop.exe
Compression=lzma2/max
SolidCompression=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
WizardStyle=modern
; Same input, same installer where Inno allows it (file times come from the files themselves).
TimeStampsInUTC=yes

[Languages]
Name: "en"; MessagesFile: "compiler:Default.isl"
Name: "uk"; MessagesFile: "compiler:Languages\Ukrainian.isl"
Name: "ru"; MessagesFile: "compiler:Languages\Russian.isl"

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\fieldkit"; Filename: "{app}\fieldkit-desktop.exe"
Name: "{userdesktop}\fieldkit"; Filename: "{app}\fieldkit-desktop.exe"; Tasks: desktopicon

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; Flags: unchecked

[Run]
Filename: "{app}\fieldkit-desktop.exe"; Description: "{cm:LaunchProgram,fieldkit}"; Flags: nowait postinstall skipifsilent

[CustomMessages]
en.ProfileStays=Uninstalling removes the program only.%n%nYour profile (encrypted records and evidence) stays in:%n%2\fieldkit\profile%n%nTo destroy it, choose No now, then run in a command window:%n"%1\fieldkit.exe" erase%nand uninstall afterwards.%n%nContinue uninstalling and keep the profile?
uk.ProfileStays=Видалення прибирає лише програму.%n%nВаш профіль (зашифровані записи й докази) залишається в:%n%2\fieldkit\profile%n%nЩоб знищити його, оберіть «Ні», потім виконайте у вікні командного рядка:%n"%1\fieldkit.exe" erase%nі лише після цього видаліть програму.%n%nПродовжити видалення і зберегти профіль?
ru.ProfileStays=Удаление убирает только программу.%n%nВаш профиль (зашифрованные записи и доказательства) остаётся в:%n%2\fieldkit\profile%n%nЧтобы уничтожить его, выберите «Нет», затем выполните в окне командной строки:%n"%1\fieldkit.exe" erase%nи только после этого удалите программу.%n%nПродолжить удаление и сохранить профиль?

[Code]
function InitializeUninstall(): Boolean;
begin
  { Silent uninstalls (e.g. by an administrator's tool) keep the profile without asking. }
  if UninstallSilent() then
    Result := True
  else
    Result := MsgBox(FmtMessage(CustomMessage('ProfileStays'), [ExpandConstant('{app}'), ExpandConstant('{localappdata}')]),
                     mbConfirmation, MB_YESNO) = IDYES;
end;
