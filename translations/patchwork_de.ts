<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="de" sourcelanguage="en">
<context>
    <name>HookSecret</name>
    <message>
        <source>Cannot read the secret key file %1: %2</source>
        <translation>Die Schlüsseldatei %1 kann nicht gelesen werden: %2</translation>
    </message>
    <message>
        <source>The secret key file %1 is empty; delete it to generate a new key</source>
        <translation>Die Schlüsseldatei %1 ist leer; löschen Sie sie, um einen neuen Schlüssel zu erzeugen</translation>
    </message>
    <message>
        <source>Cannot create the data directory %1</source>
        <translation>Das Datenverzeichnis %1 kann nicht angelegt werden</translation>
    </message>
    <message>
        <source>Cannot create the secret key file %1: %2</source>
        <translation>Die Schlüsseldatei %1 kann nicht angelegt werden: %2</translation>
    </message>
    <message>
        <source>Cannot write the secret key file %1: %2</source>
        <translation>Die Schlüsseldatei %1 kann nicht geschrieben werden: %2</translation>
    </message>
    <message>
        <source>Cannot restrict the permissions of the secret key file %1</source>
        <translation>Die Zugriffsrechte der Schlüsseldatei %1 können nicht eingeschränkt werden</translation>
    </message>
    <message>
        <source>SECRET_KEY is not set and there is no data directory to keep a generated key in</source>
        <translation>SECRET_KEY ist nicht gesetzt, und es gibt kein Datenverzeichnis, in dem ein erzeugter Schlüssel gespeichert werden könnte</translation>
    </message>
</context>
<context>
    <name>Patchwork::Client::RelayReply</name>
    <message>
        <source>HTTP %1</source>
        <translation>HTTP %1</translation>
    </message>
</context>
<context>
    <name>Patchwork::Client::Subscription</name>
    <message>
        <source>Not an http or https URL: %1</source>
        <translation>Keine http- oder https-URL: %1</translation>
    </message>
    <message>
        <source>An event is larger than %1 bytes</source>
        <translation>Ein Ereignis ist größer als %1 Bytes</translation>
    </message>
    <message>
        <source>The server ended the stream</source>
        <translation>Der Server hat den Datenstrom beendet</translation>
    </message>
    <message>
        <source>The server did not answer with an event stream</source>
        <translation>Der Server hat nicht mit einem Ereignisstrom geantwortet</translation>
    </message>
    <message>
        <source>The stream ended before a message arrived</source>
        <translation>Der Datenstrom endete, bevor eine Nachricht ankam</translation>
    </message>
    <message>
        <source>HTTP %1</source>
        <translation>HTTP %1</translation>
    </message>
    <message>
        <source>HTTP %1: %2</source>
        <translation>HTTP %1: %2</translation>
    </message>
    <message numerus="yes">
        <source>No data from the server for %n second(s)</source>
        <translation>
            <numerusform>Seit %n Sekunde keine Daten vom Server</numerusform>
            <numerusform>Seit %n Sekunden keine Daten vom Server</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>Patchwork::DirectoryConfigSource</name>
    <message>
        <source>the file is larger than %1 bytes</source>
        <translation>die Datei ist größer als %1 Bytes</translation>
    </message>
</context>
<context>
    <name>Patchwork::ForgejoConfigSource</name>
    <message>
        <source>the file is larger than %1 bytes</source>
        <translation>die Datei ist größer als %1 Bytes</translation>
    </message>
    <message>
        <source>fetching %1 timed out after %2 ms</source>
        <translation>Abruf von %1 nach %2 ms abgebrochen (Zeitüberschreitung)</translation>
    </message>
    <message>
        <source>fetching %1 failed with HTTP status %2</source>
        <translation>Abruf von %1 fehlgeschlagen mit HTTP-Status %2</translation>
    </message>
    <message>
        <source>fetching %1 failed: %2</source>
        <translation>Abruf von %1 fehlgeschlagen: %2</translation>
    </message>
</context>
<context>
    <name>Patchwork::Gui::AclTesterPanel</name>
    <message>
        <source>Method</source>
        <translation>Methode</translation>
    </message>
    <message>
        <source>huproxy (tunnel)</source>
        <translation>huproxy (Tunnel)</translation>
    </message>
    <message>
        <source>Token to test</source>
        <translation>Zu prüfendes Token</translation>
    </message>
    <message>
        <source>None (the token named public)</source>
        <translation>Keines (das Token namens public)</translation>
    </message>
    <message>
        <source>The token a client presents; empty tests a request without a token. A token stored as a sha256: key can only be tested by typing the token itself.</source>
        <translation>Das Token, das ein Client vorlegt; leer prüft eine Anfrage ohne Token. Ein als sha256:-Schlüssel gespeichertes Token lässt sich nur prüfen, indem Sie das Token selbst eingeben.</translation>
    </message>
    <message>
        <source>Literal token of the config</source>
        <translation>Klartext-Token der Konfiguration</translation>
    </message>
    <message>
        <source>Picks one of the config&apos;s literal tokens. Tokens stored as sha256: keys are not listed: the config does not hold them, so type the token itself to test it.</source>
        <translation>Wählt eines der Klartext-Tokens der Konfiguration. Als sha256:-Schlüssel gespeicherte Tokens werden nicht aufgeführt, da die Konfiguration sie nicht enthält: Geben Sie das Token selbst ein, um es zu prüfen.</translation>
    </message>
    <message>
        <source>Result</source>
        <translation>Ergebnis</translation>
    </message>
    <message>
        <source>&amp;Method:</source>
        <translation>&amp;Methode:</translation>
    </message>
    <message>
        <source>T&amp;oken:</source>
        <translation>T&amp;oken:</translation>
    </message>
    <message>
        <source>Result:</source>
        <translation>Ergebnis:</translation>
    </message>
    <message>
        <source>Pick a literal token…</source>
        <translation>Klartext-Token wählen…</translation>
    </message>
    <message>
        <source>&amp;Host:port:</source>
        <translation>&amp;Host:Port:</translation>
    </message>
    <message>
        <source>&amp;Path:</source>
        <translation>&amp;Pfad:</translation>
    </message>
    <message>
        <source>Tunnel target host and port</source>
        <translation>Host und Port des Tunnelziels</translation>
    </message>
    <message>
        <source>Path in the namespace</source>
        <translation>Pfad im Namensraum</translation>
    </message>
    <message>
        <source>The host and port the tunnel would connect to</source>
        <translation>Host und Port, mit denen sich der Tunnel verbinden würde</translation>
    </message>
    <message>
        <source>A path inside /u/&lt;user&gt;/ with an optional query, e.g. /_/ntfy</source>
        <translation>Ein Pfad innerhalb von /u/&lt;Benutzer&gt;/ mit optionaler Query, z. B. /_/ntfy</translation>
    </message>
    <message>
        <source>The config has problems; fix them to test access.</source>
        <translation>Die Konfiguration hat Fehler; beheben Sie sie, um den Zugriff zu prüfen.</translation>
    </message>
    <message>
        <source>Enter a target to test.</source>
        <translation>Geben Sie ein Ziel zum Prüfen ein.</translation>
    </message>
    <message>
        <source>Allowed</source>
        <translation>Erlaubt</translation>
    </message>
    <message>
        <source>Denied — %1 %2</source>
        <translation>Abgelehnt — %1 %2</translation>
    </message>
</context>
<context>
    <name>Patchwork::Gui::Autostart</name>
    <message>
        <source>Cannot remove %1: %2</source>
        <translation>%1 kann nicht entfernt werden: %2</translation>
    </message>
    <message>
        <source>Cannot create the folder %1.</source>
        <translation>Der Ordner %1 kann nicht angelegt werden.</translation>
    </message>
    <message>
        <source>Cannot write %1: %2</source>
        <translation>%1 kann nicht geschrieben werden: %2</translation>
    </message>
    <message>
        <source>A local relay for your LAN, and desktop notifications from your scripts</source>
        <translation>Ein lokales Relay für Ihr LAN und Desktop-Benachrichtigungen aus Ihren Skripten</translation>
    </message>
</context>
<context>
    <name>Patchwork::Gui::ConfigDocument</name>
    <message>
        <source>Cannot read %1: %2</source>
        <translation>%1 kann nicht gelesen werden: %2</translation>
    </message>
    <message>
        <source>Untitled</source>
        <translation>Unbenannt</translation>
    </message>
    <message>
        <source>This token is already in the file.</source>
        <translation>Dieses Token steht bereits in der Datei.</translation>
    </message>
    <message>
        <source>Add token</source>
        <translation>Token hinzufügen</translation>
    </message>
    <message>
        <source>Remove token</source>
        <translation>Token entfernen</translation>
    </message>
    <message>
        <source>Make admin</source>
        <translation>Zum Administrator machen</translation>
    </message>
    <message>
        <source>Remove admin</source>
        <translation>Administratorrecht entziehen</translation>
    </message>
    <message>
        <source>Change expiry</source>
        <translation>Ablaufzeit ändern</translation>
    </message>
    <message>
        <source>Add %1 list</source>
        <translation>Liste %1 hinzufügen</translation>
    </message>
    <message>
        <source>Remove %1 list</source>
        <translation>Liste %1 entfernen</translation>
    </message>
    <message>
        <source>Add pattern</source>
        <translation>Muster hinzufügen</translation>
    </message>
    <message>
        <source>Edit pattern</source>
        <translation>Muster bearbeiten</translation>
    </message>
    <message>
        <source>Remove pattern</source>
        <translation>Muster entfernen</translation>
    </message>
    <message>
        <source>Move pattern</source>
        <translation>Muster verschieben</translation>
    </message>
    <message>
        <source>Toggle negation</source>
        <translation>Negation umschalten</translation>
    </message>
    <message>
        <source>Change notification backend</source>
        <translation>Benachrichtigungsdienst ändern</translation>
    </message>
    <message>
        <source>The document has no file name yet.</source>
        <translation>Das Dokument hat noch keinen Dateinamen.</translation>
    </message>
    <message>
        <source>Not saved: the file written would not load: %1</source>
        <translation>Nicht gespeichert: Die geschriebene Datei ließe sich nicht laden: %1</translation>
    </message>
    <message>
        <source>Not saved: the file written would not load to what was edited.</source>
        <translation>Nicht gespeichert: Die geschriebene Datei ergäbe beim Laden nicht das Bearbeitete.</translation>
    </message>
    <message>
        <source>Cannot create the folder %1.</source>
        <translation>Der Ordner %1 kann nicht angelegt werden.</translation>
    </message>
    <message>
        <source>Cannot write %1: %2</source>
        <translation>%1 kann nicht geschrieben werden: %2</translation>
    </message>
</context>
<context>
    <name>Patchwork::Gui::ConfigEditorWindow</name>
    <message>
        <source>&amp;File</source>
        <translation>&amp;Datei</translation>
    </message>
    <message>
        <source>&amp;New</source>
        <translation>&amp;Neu</translation>
    </message>
    <message>
        <source>&amp;Open…</source>
        <translation>Ö&amp;ffnen…</translation>
    </message>
    <message>
        <source>Open &amp;Recent</source>
        <translation>&amp;Zuletzt geöffnet</translation>
    </message>
    <message>
        <source>Open Relay &amp;User</source>
        <translation>Relay-&amp;Benutzer öffnen</translation>
    </message>
    <message>
        <source>&amp;Save</source>
        <translation>&amp;Speichern</translation>
    </message>
    <message>
        <source>Save &amp;As…</source>
        <translation>Speichern &amp;unter…</translation>
    </message>
    <message>
        <source>&amp;Close</source>
        <translation>S&amp;chließen</translation>
    </message>
    <message>
        <source>&amp;Edit</source>
        <translation>&amp;Bearbeiten</translation>
    </message>
    <message>
        <source>&amp;Undo</source>
        <translation>&amp;Rückgängig</translation>
    </message>
    <message>
        <source>&amp;Redo</source>
        <translation>&amp;Wiederherstellen</translation>
    </message>
    <message>
        <source>&amp;Token</source>
        <translation>&amp;Token</translation>
    </message>
    <message>
        <source>&amp;New Token…</source>
        <translation>&amp;Neues Token…</translation>
    </message>
    <message>
        <source>&amp;Remove Token</source>
        <translation>Token &amp;entfernen</translation>
    </message>
    <message>
        <source>File</source>
        <translation>Datei</translation>
    </message>
    <message>
        <source>Tokens</source>
        <translation>Tokens</translation>
    </message>
    <message>
        <source>&amp;Administrator (may use the admin endpoints)</source>
        <translation>&amp;Administrator (darf die Admin-Endpunkte nutzen)</translation>
    </message>
    <message>
        <source>Administrator</source>
        <translation>Administrator</translation>
    </message>
    <message>
        <source>Ne&amp;ver expires</source>
        <translation>Läuft &amp;nie ab</translation>
    </message>
    <message>
        <source>Never expires</source>
        <translation>Läuft nie ab</translation>
    </message>
    <message>
        <source>Expires at (UTC)</source>
        <translation>Läuft ab am (UTC)</translation>
    </message>
    <message>
        <source>Permission list</source>
        <translation>Berechtigungsliste</translation>
    </message>
    <message>
        <source>&amp;List written in the file (an absent or empty list allows nothing)</source>
        <translation>&amp;Liste in die Datei schreiben (eine fehlende oder leere Liste erlaubt nichts)</translation>
    </message>
    <message>
        <source>List present in the file</source>
        <translation>Liste in der Datei vorhanden</translation>
    </message>
    <message>
        <source>Patterns</source>
        <translation>Muster</translation>
    </message>
    <message>
        <source>A&amp;dd</source>
        <translation>&amp;Hinzufügen</translation>
    </message>
    <message>
        <source>Add pattern</source>
        <translation>Muster hinzufügen</translation>
    </message>
    <message>
        <source>Remove pattern</source>
        <translation>Muster entfernen</translation>
    </message>
    <message>
        <source>Move &amp;up</source>
        <translation>Nach &amp;oben</translation>
    </message>
    <message>
        <source>Move pattern up</source>
        <translation>Muster nach vorn</translation>
    </message>
    <message>
        <source>Move do&amp;wn</source>
        <translation>Nach &amp;unten</translation>
    </message>
    <message>
        <source>Move pattern down</source>
        <translation>Muster nach hinten</translation>
    </message>
    <message>
        <source>&amp;Negate (!)</source>
        <translation>Ne&amp;gieren (!)</translation>
    </message>
    <message>
        <source>Negate pattern</source>
        <translation>Muster negieren</translation>
    </message>
    <message>
        <source>A negated pattern (starting with !) denies what it matches</source>
        <translation>Ein negiertes Muster (beginnt mit !) verbietet, worauf es passt</translation>
    </message>
    <message>
        <source>Key:</source>
        <translation>Schlüssel:</translation>
    </message>
    <message>
        <source>E&amp;xpires:</source>
        <translation>Läuft a&amp;b:</translation>
    </message>
    <message>
        <source>Editor pages</source>
        <translation>Editorseiten</translation>
    </message>
    <message>
        <source>ACL tester</source>
        <translation>ACL-Tester</translation>
    </message>
    <message>
        <source>ACL &amp;Tester</source>
        <translation>ACL-&amp;Tester</translation>
    </message>
    <message>
        <source>The file was not opened: the relay would refuse it too.

%1</source>
        <translation>Die Datei wurde nicht geöffnet: Das Relay würde sie ebenfalls ablehnen.

%1</translation>
    </message>
    <message>
        <source>This file has comments. Saving writes the file anew, without its comments (the YAML library does not keep them). Save anyway?</source>
        <translation>Diese Datei enthält Kommentare. Beim Speichern wird sie neu geschrieben, ohne ihre Kommentare (die YAML-Bibliothek behält sie nicht). Trotzdem speichern?</translation>
    </message>
    <message>
        <source>Saved %1</source>
        <translation>%1 gespeichert</translation>
    </message>
    <message>
        <source>The token configuration %1 has unsaved changes. Save them?</source>
        <translation>Die Token-Konfiguration %1 hat ungespeicherte Änderungen. Speichern?</translation>
    </message>
    <message>
        <source>%1 (anyone without a token)</source>
        <translation>%1 (jeder ohne Token)</translation>
    </message>
    <message>
        <source>%1… (literal)</source>
        <translation>%1… (Klartext)</translation>
    </message>
    <message>
        <source>Cannot save: token %1: %2</source>
        <translation>Speichern nicht möglich: Token %1: %2</translation>
    </message>
    <message>
        <source>Cannot save: notifications: %1</source>
        <translation>Speichern nicht möglich: Benachrichtigungen: %1</translation>
    </message>
    <message>
        <source>Save</source>
        <translation>Speichern</translation>
    </message>
    <message>
        <source>A literal token: the key is the token itself (hidden)</source>
        <translation>Ein Klartext-Token: Der Schlüssel ist das Token selbst (verborgen)</translation>
    </message>
    <message>
        <source>This token has invalid settings.</source>
        <translation>Dieses Token hat ungültige Einstellungen.</translation>
    </message>
    <message>
        <source>No token chosen</source>
        <translation>Kein Token gewählt</translation>
    </message>
    <message>
        <source>%1[*] — Token config — Patchwork</source>
        <translation>%1[*] — Token-Konfiguration — Patchwork</translation>
    </message>
    <message>
        <source>No recent files</source>
        <translation>Keine zuletzt geöffneten Dateien</translation>
    </message>
    <message>
        <source>No users in the local relay&apos;s users directory</source>
        <translation>Keine Benutzer im Benutzerverzeichnis des lokalen Relays</translation>
    </message>
    <message>
        <source>Open token configuration</source>
        <translation>Token-Konfiguration öffnen</translation>
    </message>
    <message>
        <source>Save token configuration</source>
        <translation>Token-Konfiguration speichern</translation>
    </message>
    <message>
        <source>%1 was changed by another program. Reload it and discard your unsaved changes? (No keeps your version.)</source>
        <translation>%1 wurde von einem anderen Programm geändert. Neu laden und Ihre ungespeicherten Änderungen verwerfen? („Nein“ behält Ihre Fassung.)</translation>
    </message>
    <message>
        <source>%1 was changed by another program. Reload it? (No keeps this version.)</source>
        <translation>%1 wurde von einem anderen Programm geändert. Neu laden? („Nein“ behält diese Fassung.)</translation>
    </message>
    <message>
        <source>The file was not reloaded: the relay would refuse it too.

%1</source>
        <translation>Die Datei wurde nicht neu geladen: Das Relay würde sie ebenfalls ablehnen.

%1</translation>
    </message>
    <message>
        <source>&amp;Remove</source>
        <translation>&amp;Entfernen</translation>
    </message>
    <message>
        <source>To&amp;ken</source>
        <translation>To&amp;ken</translation>
    </message>
    <message>
        <source>Notif&amp;ications</source>
        <translation>Benach&amp;richtigungen</translation>
    </message>
</context>
<context>
    <name>Patchwork::Gui::DesktopNotifier</name>
    <message>
        <source>Show history</source>
        <translation>Verlauf anzeigen</translation>
    </message>
    <message>
        <source>Open link</source>
        <translation>Link öffnen</translation>
    </message>
    <message numerus="yes">
        <source>%n more from %1</source>
        <translation>
            <numerusform>%n weitere von %1</numerusform>
            <numerusform>%n weitere von %1</numerusform>
        </translation>
    </message>
    <message>
        <source>See the notification history for all of them.</source>
        <translation>Alle finden Sie im Benachrichtigungsverlauf.</translation>
    </message>
</context>
<context>
    <name>Patchwork::Gui::HistoryModel</name>
    <message>
        <source>Time</source>
        <translation>Zeit</translation>
    </message>
    <message>
        <source>Subscription</source>
        <translation>Abonnement</translation>
    </message>
    <message>
        <source>Title</source>
        <translation>Titel</translation>
    </message>
    <message>
        <source>Message</source>
        <translation>Nachricht</translation>
    </message>
</context>
<context>
    <name>Patchwork::Gui::HistoryStore</name>
    <message>
        <source>Cannot open the history database %1: %2</source>
        <translation>Die Verlaufsdatenbank %1 kann nicht geöffnet werden: %2</translation>
    </message>
    <message>
        <source>Cannot create the history table in %1: %2</source>
        <translation>Die Verlaufstabelle in %1 kann nicht angelegt werden: %2</translation>
    </message>
</context>
<context>
    <name>Patchwork::Gui::HistoryWindow</name>
    <message>
        <source>&amp;Copy</source>
        <translation>&amp;Kopieren</translation>
    </message>
    <message>
        <source>&amp;Open link</source>
        <translation>Link &amp;öffnen</translation>
    </message>
    <message>
        <source>&amp;Delete</source>
        <translation>&amp;Löschen</translation>
    </message>
    <message>
        <source>C&amp;lear all…</source>
        <translation>&amp;Alles löschen…</translation>
    </message>
    <message>
        <source>Notification history — Patchwork</source>
        <translation>Benachrichtigungsverlauf — Patchwork</translation>
    </message>
    <message>
        <source>Search title, message or subscription</source>
        <translation>Titel, Nachricht oder Abonnement suchen</translation>
    </message>
    <message>
        <source>Search the history</source>
        <translation>Verlauf durchsuchen</translation>
    </message>
    <message>
        <source>Received notifications</source>
        <translation>Empfangene Benachrichtigungen</translation>
    </message>
    <message>
        <source>Clear history</source>
        <translation>Verlauf löschen</translation>
    </message>
    <message>
        <source>Delete every message in the history?</source>
        <translation>Alle Nachrichten im Verlauf löschen?</translation>
    </message>
    <message>
        <source>Shown: %1 · unread: %2</source>
        <translation>Angezeigt: %1 · ungelesen: %2</translation>
    </message>
    <message>
        <source>Copy the selected message</source>
        <translation>Ausgewählte Nachricht kopieren</translation>
    </message>
    <message>
        <source>Open the link of the selected message</source>
        <translation>Link der ausgewählten Nachricht öffnen</translation>
    </message>
    <message>
        <source>Delete the selected message</source>
        <translation>Ausgewählte Nachricht löschen</translation>
    </message>
    <message>
        <source>Clear the whole history</source>
        <translation>Gesamten Verlauf löschen</translation>
    </message>
</context>
<context>
    <name>Patchwork::Gui::MainWindow</name>
    <message>
        <source>Patchwork</source>
        <translation>Patchwork</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Status</translation>
    </message>
</context>
<context>
    <name>Patchwork::Gui::MessageFormatter</name>
    <message>
        <source>Tags: %1</source>
        <translation>Schlagwörter: %1</translation>
    </message>
    <message>
        <source>Binary message, size: %1 B</source>
        <translation>Binäre Nachricht, Größe: %1 B</translation>
    </message>
</context>
<context>
    <name>Patchwork::Gui::NewTokenDialog</name>
    <message>
        <source>&amp;Copy</source>
        <translation>&amp;Kopieren</translation>
    </message>
    <message>
        <source>&amp;Store the token itself (literal) instead of its SHA-256 hash</source>
        <translation>Das Token &amp;selbst (im Klartext) statt seines SHA-256-Hashes speichern</translation>
    </message>
    <message>
        <source>New token — Patchwork</source>
        <translation>Neues Token — Patchwork</translation>
    </message>
    <message>
        <source>Copy the token now and give it to whoever will use it. It will not be shown again: the config only keeps what is needed to recognise it.</source>
        <translation>Kopieren Sie das Token jetzt und geben Sie es an die Person oder den Dienst weiter, die es nutzen sollen. Es wird nicht noch einmal angezeigt: Die Konfiguration behält nur, was nötig ist, um es wiederzuerkennen.</translation>
    </message>
    <message>
        <source>New token</source>
        <translation>Neues Token</translation>
    </message>
    <message>
        <source>Copy the token</source>
        <translation>Token kopieren</translation>
    </message>
    <message>
        <source>Copy the token to the clipboard</source>
        <translation>Das Token in die Zwischenablage kopieren</translation>
    </message>
    <message>
        <source>Store the token literally</source>
        <translation>Token im Klartext speichern</translation>
    </message>
    <message>
        <source>A literal token can be read by anyone who can read the config file; a SHA-256 key cannot be turned back into the token</source>
        <translation>Ein Klartext-Token kann jeder lesen, der die Konfigurationsdatei lesen kann; aus einem SHA-256-Schlüssel lässt sich das Token nicht zurückgewinnen</translation>
    </message>
    <message>
        <source>Add the token</source>
        <translation>Token hinzufügen</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Abbrechen</translation>
    </message>
    <message>
        <source>&amp;Token:</source>
        <translation>&amp;Token:</translation>
    </message>
    <message>
        <source>&amp;Copied</source>
        <translation>&amp;Kopiert</translation>
    </message>
    <message>
        <source>The config will hold the token itself.</source>
        <translation>Die Konfiguration wird das Token selbst enthalten.</translation>
    </message>
    <message>
        <source>The config will hold its hash: %1</source>
        <translation>Die Konfiguration wird seinen Hash enthalten: %1</translation>
    </message>
</context>
<context>
    <name>Patchwork::Gui::NtfyForm</name>
    <message>
        <source>None</source>
        <translation>Keiner</translation>
    </message>
    <message>
        <source>Matrix</source>
        <translation>Matrix</translation>
    </message>
    <message>
        <source>ntfy</source>
        <translation>ntfy</translation>
    </message>
    <message>
        <source>Gotify</source>
        <translation>Gotify</translation>
    </message>
    <message>
        <source>Webhook</source>
        <translation>Webhook</translation>
    </message>
    <message>
        <source>Channel (desktop notifications)</source>
        <translation>Kanal (Desktop-Benachrichtigungen)</translation>
    </message>
    <message>
        <source>&amp;User:</source>
        <translation>Ben&amp;utzer:</translation>
    </message>
    <message>
        <source>Matrix user</source>
        <translation>Matrix-Benutzer</translation>
    </message>
    <message>
        <source>&amp;Access token:</source>
        <translation>&amp;Zugriffstoken:</translation>
    </message>
    <message>
        <source>Matrix access token</source>
        <translation>Matrix-Zugriffstoken</translation>
    </message>
    <message>
        <source>Matrix endpoint</source>
        <translation>Matrix-Endpunkt</translation>
    </message>
    <message>
        <source>Optional: https:// and the server part of the user id</source>
        <translation>Optional: https:// und der Serverteil der Benutzer-ID</translation>
    </message>
    <message>
        <source>&amp;Room ID:</source>
        <translation>R&amp;aum-ID:</translation>
    </message>
    <message>
        <source>Matrix room ID</source>
        <translation>Matrix-Raum-ID</translation>
    </message>
    <message>
        <source>Optional when every notification names its room</source>
        <translation>Optional, wenn jede Benachrichtigung ihren Raum nennt</translation>
    </message>
    <message>
        <source>&amp;URL:</source>
        <translation>&amp;URL:</translation>
    </message>
    <message>
        <source>ntfy server URL</source>
        <translation>URL des ntfy-Servers</translation>
    </message>
    <message>
        <source>ntfy topic</source>
        <translation>ntfy-Thema</translation>
    </message>
    <message>
        <source>ntfy access token</source>
        <translation>ntfy-Zugriffstoken</translation>
    </message>
    <message>
        <source>Optional</source>
        <translation>Optional</translation>
    </message>
    <message>
        <source>Gotify server URL</source>
        <translation>URL des Gotify-Servers</translation>
    </message>
    <message>
        <source>Gotify application token</source>
        <translation>Gotify-Anwendungstoken</translation>
    </message>
    <message>
        <source>Webhook URL</source>
        <translation>Webhook-URL</translation>
    </message>
    <message>
        <source>Channel path</source>
        <translation>Kanalpfad</translation>
    </message>
    <message>
        <source>A channel inside the user&apos;s namespace, e.g. notifications</source>
        <translation>Ein Kanal im Namensraum des Benutzers, z. B. notifications</translation>
    </message>
    <message>
        <source>Notification backend</source>
        <translation>Benachrichtigungsdienst</translation>
    </message>
    <message>
        <source>Where /_/ntfy sends notifications; none makes it answer 503</source>
        <translation>Wohin /_/ntfy Benachrichtigungen sendet; bei „Keiner“ antwortet es mit 503</translation>
    </message>
    <message>
        <source>This backend type is unknown to Patchwork; its settings are kept as they are. Choose a type to replace it.</source>
        <translation>Diesen Diensttyp kennt Patchwork nicht; seine Einstellungen bleiben unverändert erhalten. Wählen Sie einen Typ, um ihn zu ersetzen.</translation>
    </message>
    <message>
        <source>&amp;Backend:</source>
        <translation>D&amp;ienst:</translation>
    </message>
    <message>
        <source>No notification backend: /_/ntfy answers 503.</source>
        <translation>Kein Benachrichtigungsdienst: /_/ntfy antwortet mit 503.</translation>
    </message>
    <message>
        <source>A secret: shown only while you edit it</source>
        <translation>Ein Geheimnis: nur sichtbar, während Sie es bearbeiten</translation>
    </message>
    <message>
        <source>Headers:</source>
        <translation>Header:</translation>
    </message>
    <message>
        <source>Webhook headers</source>
        <translation>Webhook-Header</translation>
    </message>
    <message>
        <source>Extra request headers; values are secrets, shown only while you edit them</source>
        <translation>Zusätzliche Anfrage-Header; die Werte sind geheim und nur sichtbar, während Sie sie bearbeiten</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>Name</translation>
    </message>
    <message>
        <source>Value</source>
        <translation>Wert</translation>
    </message>
    <message>
        <source>A&amp;dd header</source>
        <translation>Header &amp;hinzufügen</translation>
    </message>
    <message>
        <source>Add header</source>
        <translation>Header hinzufügen</translation>
    </message>
    <message>
        <source>Re&amp;move header</source>
        <translation>Header &amp;entfernen</translation>
    </message>
    <message>
        <source>Remove header</source>
        <translation>Header entfernen</translation>
    </message>
    <message>
        <source>Unknown: %1</source>
        <translation>Unbekannt: %1</translation>
    </message>
    <message>
        <source>Not a text value in the file: kept until you type here</source>
        <translation>In der Datei kein Textwert: bleibt erhalten, bis Sie hier etwas eingeben</translation>
    </message>
    <message>
        <source>Header name</source>
        <translation>Header-Name</translation>
    </message>
    <message>
        <source>Header value</source>
        <translation>Header-Wert</translation>
    </message>
    <message>
        <source>E&amp;ndpoint:</source>
        <translation>&amp;Endpunkt:</translation>
    </message>
    <message>
        <source>Topi&amp;c:</source>
        <translation>Th&amp;ema:</translation>
    </message>
    <message>
        <source>Toke&amp;n:</source>
        <translation>Toke&amp;n:</translation>
    </message>
    <message>
        <source>P&amp;ath:</source>
        <translation>P&amp;fad:</translation>
    </message>
</context>
<context>
    <name>Patchwork::Gui::RelayController</name>
    <message>
        <source>Local relay stopped</source>
        <translation>Lokales Relay gestoppt</translation>
    </message>
    <message>
        <source>Local relay on port %1 (this computer)</source>
        <translation>Lokales Relay auf Port %1 (dieser Computer)</translation>
    </message>
    <message>
        <source>Local relay on port %1 (LAN)</source>
        <translation>Lokales Relay auf Port %1 (LAN)</translation>
    </message>
</context>
<context>
    <name>Patchwork::Gui::RelayPanel</name>
    <message>
        <source>Reachable from other devices on the &amp;LAN (all interfaces)</source>
        <translation>Von anderen Geräten im &amp;LAN erreichbar (alle Schnittstellen)</translation>
    </message>
    <message>
        <source>&amp;Copy URL</source>
        <translation>URL &amp;kopieren</translation>
    </message>
    <message>
        <source>Local relay — Patchwork</source>
        <translation>Lokales Relay — Patchwork</translation>
    </message>
    <message>
        <source>any free port</source>
        <translation>beliebiger freier Port</translation>
    </message>
    <message>
        <source>Port</source>
        <translation>Port</translation>
    </message>
    <message>
        <source>Users directory</source>
        <translation>Benutzerverzeichnis</translation>
    </message>
    <message>
        <source>Default: in the app&apos;s data directory</source>
        <translation>Standard: im Datenverzeichnis der Anwendung</translation>
    </message>
    <message>
        <source>URLs of the relay</source>
        <translation>URLs des Relays</translation>
    </message>
    <message>
        <source>QR code of the selected URL</source>
        <translation>QR-Code der ausgewählten URL</translation>
    </message>
    <message>
        <source>…</source>
        <translation>…</translation>
    </message>
    <message>
        <source>Choose the users directory</source>
        <translation>Benutzerverzeichnis auswählen</translation>
    </message>
    <message>
        <source>&amp;Port:</source>
        <translation>&amp;Port:</translation>
    </message>
    <message>
        <source>&amp;Users directory:</source>
        <translation>&amp;Benutzerverzeichnis:</translation>
    </message>
    <message>
        <source>Open or subscribe from other devices:</source>
        <translation>Von anderen Geräten aus öffnen oder abonnieren:</translation>
    </message>
    <message>
        <source>&amp;Stop relay</source>
        <translation>Relay &amp;stoppen</translation>
    </message>
    <message>
        <source>&amp;Start relay</source>
        <translation>Relay &amp;starten</translation>
    </message>
    <message>
        <source>Channels: %1 · waiting: %2 · connections: %3 · messages/min: %4</source>
        <translation>Kanäle: %1 · wartend: %2 · Verbindungen: %3 · Nachrichten/min: %4</translation>
    </message>
    <message>
        <source>Reachable from the LAN</source>
        <translation>Aus dem LAN erreichbar</translation>
    </message>
    <message>
        <source>Start or stop the local relay</source>
        <translation>Lokales Relay starten oder stoppen</translation>
    </message>
    <message>
        <source>Copy the selected URL</source>
        <translation>Ausgewählte URL kopieren</translation>
    </message>
</context>
<context>
    <name>Patchwork::Gui::SettingsDialog</name>
    <message>
        <source>&amp;Start Patchwork when I log in</source>
        <translation>Patchwork beim Anmelden &amp;starten</translation>
    </message>
    <message>
        <source>Reachable from other devices on the &amp;LAN (all interfaces)</source>
        <translation>Von anderen Geräten im &amp;LAN erreichbar (alle Schnittstellen)</translation>
    </message>
    <message>
        <source>Start the local relay &amp;when Patchwork starts</source>
        <translation>Lokales Relay beim Start von Patch&amp;work starten</translation>
    </message>
    <message>
        <source>&amp;Do not disturb: messages go to the history only</source>
        <translation>&amp;Nicht stören: Nachrichten kommen nur in den Verlauf</translation>
    </message>
    <message>
        <source>Settings — Patchwork</source>
        <translation>Einstellungen — Patchwork</translation>
    </message>
    <message>
        <source>Settings pages</source>
        <translation>Einstellungsseiten</translation>
    </message>
    <message>
        <source>Start Patchwork when I log in</source>
        <translation>Patchwork beim Anmelden starten</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>Sprache</translation>
    </message>
    <message>
        <source>System default</source>
        <translation>Systemsprache</translation>
    </message>
    <message>
        <source>&amp;Language:</source>
        <translation>Sprach&amp;e:</translation>
    </message>
    <message>
        <source>Applies after restart.</source>
        <translation>Wird nach einem Neustart wirksam.</translation>
    </message>
    <message>
        <source>Reachable from other devices on the LAN</source>
        <translation>Von anderen Geräten im LAN erreichbar</translation>
    </message>
    <message>
        <source>Port</source>
        <translation>Port</translation>
    </message>
    <message>
        <source>any free port</source>
        <translation>beliebiger freier Port</translation>
    </message>
    <message>
        <source>Users directory</source>
        <translation>Benutzerverzeichnis</translation>
    </message>
    <message>
        <source>Default: in the app&apos;s data directory</source>
        <translation>Standard: Datenverzeichnis der App</translation>
    </message>
    <message>
        <source>&amp;Browse…</source>
        <translation>&amp;Durchsuchen…</translation>
    </message>
    <message>
        <source>Choose the users directory</source>
        <translation>Benutzerverzeichnis auswählen</translation>
    </message>
    <message>
        <source>Start the local relay when Patchwork starts</source>
        <translation>Lokales Relay beim Start von Patchwork starten</translation>
    </message>
    <message>
        <source>&amp;Port:</source>
        <translation>&amp;Port:</translation>
    </message>
    <message>
        <source>&amp;Users directory:</source>
        <translation>&amp;Benutzerverzeichnis:</translation>
    </message>
    <message>
        <source>Maximum number of messages</source>
        <translation>Höchstzahl an Nachrichten</translation>
    </message>
    <message>
        <source>Unlimited</source>
        <translation>Unbegrenzt</translation>
    </message>
    <message>
        <source>Delete messages older than this many days</source>
        <translation>Nachrichten nach so vielen Tagen löschen</translation>
    </message>
    <message>
        <source>Never</source>
        <translation>Nie</translation>
    </message>
    <message>
        <source>Maximum &amp;number of messages:</source>
        <translation>&amp;Höchstzahl an Nachrichten:</translation>
    </message>
    <message>
        <source>Delete messages &amp;older than (days):</source>
        <translation>Nachrichten löschen nach (&amp;Tagen):</translation>
    </message>
    <message>
        <source>Pop-ups per subscription per 10 seconds</source>
        <translation>Pop-ups je Abonnement pro 10 Sekunden</translation>
    </message>
    <message>
        <source>Do not disturb</source>
        <translation>Nicht stören</translation>
    </message>
    <message>
        <source>&amp;Pop-ups per subscription per 10 seconds:</source>
        <translation>P&amp;op-ups je Abonnement pro 10 Sekunden:</translation>
    </message>
    <message>
        <source>More are summed up in one notification; the history keeps every message.</source>
        <translation>Weitere werden in einer Benachrichtigung zusammengefasst; der Verlauf behält jede Nachricht.</translation>
    </message>
    <message>
        <source>&amp;General</source>
        <translation>&amp;Allgemein</translation>
    </message>
    <message>
        <source>Local &amp;relay</source>
        <translation>Lokales &amp;Relay</translation>
    </message>
    <message>
        <source>&amp;History</source>
        <translation>&amp;Verlauf</translation>
    </message>
    <message>
        <source>&amp;Notifications</source>
        <translation>Benachrichtig&amp;ungen</translation>
    </message>
    <message>
        <source>Cannot write the settings file %1.</source>
        <translation>Die Einstellungsdatei %1 kann nicht geschrieben werden.</translation>
    </message>
    <message>
        <source>Port: enter a number from 0 (any free port) to 65535.</source>
        <translation>Port: Geben Sie eine Zahl von 0 (beliebiger freier Port) bis 65535 ein.</translation>
    </message>
    <message>
        <source>Users directory: %1</source>
        <translation>Benutzerverzeichnis: %1</translation>
    </message>
    <message>
        <source>The local relay is running: changes to it apply when it is next started.</source>
        <translation>Das lokale Relay läuft: Änderungen daran gelten ab seinem nächsten Start.</translation>
    </message>
</context>
<context>
    <name>Patchwork::Gui::SubscriptionConfig</name>
    <message>
        <source>The name is empty.</source>
        <translation>Der Name ist leer.</translation>
    </message>
    <message>
        <source>The server URL must be an http:// or https:// URL.</source>
        <translation>Die Server-URL muss eine http://- oder https://-URL sein.</translation>
    </message>
    <message>
        <source>The channel path is empty.</source>
        <translation>Der Kanalpfad ist leer.</translation>
    </message>
    <message>
        <source>The minimum priority must be between 1 and 5.</source>
        <translation>Die Mindestpriorität muss zwischen 1 und 5 liegen.</translation>
    </message>
</context>
<context>
    <name>Patchwork::Gui::SubscriptionDialog</name>
    <message>
        <source>&amp;Local relay</source>
        <translation>&amp;Lokales Relay</translation>
    </message>
    <message>
        <source>&amp;Enabled</source>
        <translation>Akti&amp;viert</translation>
    </message>
    <message>
        <source>Only messages starting with &quot;notify&quot; pop &amp;up</source>
        <translation>Nur Nachrichten mit „notify“ am Anfang als Pop-up an&amp;zeigen</translation>
    </message>
    <message>
        <source>&amp;Mute (history only)</source>
        <translation>St&amp;umm (nur Verlauf)</translation>
    </message>
    <message>
        <source>Subscriptions — Patchwork</source>
        <translation>Abonnements — Patchwork</translation>
    </message>
    <message>
        <source>Subscriptions</source>
        <translation>Abonnements</translation>
    </message>
    <message>
        <source>Use the local relay as the server</source>
        <translation>Das lokale Relay als Server verwenden</translation>
    </message>
    <message>
        <source>Unchanged (leave empty for none)</source>
        <translation>Unverändert (leer lassen für keines)</translation>
    </message>
    <message>
        <source>&amp;Add</source>
        <translation>&amp;Hinzufügen</translation>
    </message>
    <message>
        <source>&amp;Remove</source>
        <translation>&amp;Entfernen</translation>
    </message>
    <message>
        <source>&amp;Name:</source>
        <translation>&amp;Name:</translation>
    </message>
    <message>
        <source>&amp;Server URL:</source>
        <translation>&amp;Server-URL:</translation>
    </message>
    <message>
        <source>&amp;Channel path:</source>
        <translation>&amp;Kanalpfad:</translation>
    </message>
    <message>
        <source>&amp;Token:</source>
        <translation>&amp;Token:</translation>
    </message>
    <message>
        <source>Minimum &amp;priority:</source>
        <translation>Mindest&amp;priorität:</translation>
    </message>
    <message>
        <source>New subscription</source>
        <translation>Neues Abonnement</translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation>%1: %2</translation>
    </message>
    <message>
        <source>(unnamed)</source>
        <translation>(ohne Namen)</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>Name</translation>
    </message>
    <message>
        <source>Server URL</source>
        <translation>Server-URL</translation>
    </message>
    <message>
        <source>Channel path</source>
        <translation>Kanalpfad</translation>
    </message>
    <message>
        <source>Token</source>
        <translation>Token</translation>
    </message>
    <message>
        <source>Minimum priority</source>
        <translation>Mindestpriorität</translation>
    </message>
    <message>
        <source>Enabled</source>
        <translation>Aktiviert</translation>
    </message>
    <message>
        <source>Only messages starting with &quot;notify&quot; pop up</source>
        <translation>Nur Nachrichten mit „notify“ am Anfang als Pop-up anzeigen</translation>
    </message>
    <message>
        <source>Mute</source>
        <translation>Stumm</translation>
    </message>
    <message>
        <source>Save the subscriptions</source>
        <translation>Abonnements speichern</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Abbrechen</translation>
    </message>
    <message>
        <source>Add a subscription</source>
        <translation>Abonnement hinzufügen</translation>
    </message>
    <message>
        <source>Remove the selected subscription</source>
        <translation>Ausgewähltes Abonnement entfernen</translation>
    </message>
</context>
<context>
    <name>Patchwork::Gui::SubscriptionManager</name>
    <message>
        <source>disabled</source>
        <translation>deaktiviert</translation>
    </message>
    <message>
        <source>starting</source>
        <translation>startet</translation>
    </message>
    <message>
        <source>connecting</source>
        <translation>verbindet</translation>
    </message>
    <message>
        <source>connected</source>
        <translation>verbunden</translation>
    </message>
    <message>
        <source>reconnecting in %1 s: %2</source>
        <translation>neue Verbindung in %1 s: %2</translation>
    </message>
    <message>
        <source>reconnecting</source>
        <translation>verbindet neu</translation>
    </message>
    <message>
        <source>failed: %1</source>
        <translation>fehlgeschlagen: %1</translation>
    </message>
    <message>
        <source>%1/%2 subscriptions connected</source>
        <translation>%1/%2 Abonnements verbunden</translation>
    </message>
    <message>
        <source>%1/%2 subscriptions connected, %3 failed</source>
        <translation>%1/%2 Abonnements verbunden, %3 fehlgeschlagen</translation>
    </message>
</context>
<context>
    <name>Patchwork::Gui::TokenStore</name>
    <message>
        <source>The token was not saved: no secret service, and storing it in a file was declined.</source>
        <translation>Das Token wurde nicht gespeichert: Es gibt keinen Secret Service, und das Speichern in einer Datei wurde abgelehnt.</translation>
    </message>
    <message>
        <source>The token could not be written to %1.</source>
        <translation>Das Token konnte nicht in %1 geschrieben werden.</translation>
    </message>
</context>
<context>
    <name>Patchwork::Gui::TrayApplication</name>
    <message>
        <source>Patchwork tray: a local relay, subscriptions and desktop notifications.</source>
        <translation>Patchwork-Tray: ein lokales Relay, Abonnements und Desktop-Benachrichtigungen.</translation>
    </message>
    <message>
        <source>Show a normal window instead of a tray icon.</source>
        <translation>Ein normales Fenster statt eines Tray-Symbols anzeigen.</translation>
    </message>
    <message>
        <source>Do not hand over to an instance that is already running.</source>
        <translation>Nicht an eine bereits laufende Instanz übergeben.</translation>
    </message>
    <message>
        <source>Start the local relay at launch.</source>
        <translation>Das lokale Relay beim Start starten.</translation>
    </message>
    <message>
        <source>Address the local relay listens on (default: the saved setting, 127.0.0.1).</source>
        <translation>Adresse, auf der das lokale Relay lauscht (Standard: die gespeicherte Einstellung, 127.0.0.1).</translation>
    </message>
    <message>
        <source>host</source>
        <translation>Host</translation>
    </message>
    <message>
        <source>Port of the local relay (default: the saved setting, 8787).</source>
        <translation>Port des lokalen Relays (Standard: die gespeicherte Einstellung, 8787).</translation>
    </message>
    <message>
        <source>port</source>
        <translation>Port</translation>
    </message>
    <message>
        <source>Users directory of the local relay (default: the saved setting, users/ in the app&apos;s data directory).</source>
        <translation>Benutzerverzeichnis des lokalen Relays (Standard: die gespeicherte Einstellung, users/ im Datenverzeichnis der Anwendung).</translation>
    </message>
    <message>
        <source>dir</source>
        <translation>Verzeichnis</translation>
    </message>
    <message>
        <source>Unexpected argument: %1</source>
        <translation>Unerwartetes Argument: %1</translation>
    </message>
    <message>
        <source>--relay-host: not an IP address: %1</source>
        <translation>--relay-host: keine IP-Adresse: %1</translation>
    </message>
    <message>
        <source>--relay-port: not a port number: %1</source>
        <translation>--relay-port: keine Portnummer: %1</translation>
    </message>
    <message>
        <source>Cannot create the data directory %1.</source>
        <translation>Das Datenverzeichnis %1 kann nicht angelegt werden.</translation>
    </message>
    <message>
        <source>Local relay</source>
        <translation>Lokales Relay</translation>
    </message>
    <message>
        <source>No secret service</source>
        <translation>Kein Secret Service</translation>
    </message>
    <message>
        <source>The desktop&apos;s secret service is not available (%1).

Store the token in a file only you can read instead?</source>
        <translation>Der Secret Service des Desktops ist nicht verfügbar (%1).

Möchten Sie das Token stattdessen in einer Datei speichern, die nur Sie lesen können?</translation>
    </message>
    <message>
        <source>&amp;Local relay</source>
        <translation>&amp;Lokales Relay</translation>
    </message>
    <message>
        <source>&amp;Stop</source>
        <translation>&amp;Stoppen</translation>
    </message>
    <message>
        <source>&amp;Start</source>
        <translation>&amp;Starten</translation>
    </message>
    <message>
        <source>&amp;Copy URL</source>
        <translation>URL &amp;kopieren</translation>
    </message>
    <message>
        <source>LAN URLs (click to copy)</source>
        <translation>LAN-URLs (Klick kopiert)</translation>
    </message>
    <message>
        <source>Relay &amp;panel…</source>
        <translation>Relay-&amp;Fenster…</translation>
    </message>
    <message>
        <source>S&amp;ubscriptions</source>
        <translation>&amp;Abonnements</translation>
    </message>
    <message>
        <source>%1 — %2</source>
        <translation>%1 — %2</translation>
    </message>
    <message>
        <source>No subscriptions yet</source>
        <translation>Noch keine Abonnements</translation>
    </message>
    <message>
        <source>&amp;Edit subscriptions…</source>
        <translation>Abonnements &amp;bearbeiten…</translation>
    </message>
    <message>
        <source>Subscriptions</source>
        <translation>Abonnements</translation>
    </message>
    <message>
        <source>Language of the user interface for this run: system, %1 (default: the saved setting).</source>
        <translation>Sprache der Oberfläche für diesen Lauf: system, %1 (Standard: die gespeicherte Einstellung).</translation>
    </message>
    <message>
        <source>language</source>
        <translation>Sprache</translation>
    </message>
    <message>
        <source>--lang: no translation for %1 (available: system, %2)</source>
        <translation>--lang: keine Übersetzung für %1 (verfügbar: system, %2)</translation>
    </message>
</context>
<context>
    <name>Patchwork::Gui::TrayController</name>
    <message>
        <source>&amp;Patchwork</source>
        <translation>&amp;Patchwork</translation>
    </message>
    <message>
        <source>Notification &amp;history…</source>
        <translation>Benachrichtigungs&amp;verlauf…</translation>
    </message>
    <message>
        <source>&amp;Do not disturb</source>
        <translation>&amp;Nicht stören</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Beenden</translation>
    </message>
    <message>
        <source>Local relay stopped</source>
        <translation>Lokales Relay gestoppt</translation>
    </message>
    <message>
        <source>%1 unread</source>
        <translation>%1 ungelesen</translation>
    </message>
    <message>
        <source>Patchwork</source>
        <translation>Patchwork</translation>
    </message>
    <message>
        <source>Edit token &amp;config…</source>
        <translation>Token-&amp;Konfiguration bearbeiten…</translation>
    </message>
    <message>
        <source>&amp;Settings…</source>
        <translation>&amp;Einstellungen…</translation>
    </message>
</context>
<context>
    <name>Patchwork::Gui::TraySettings</name>
    <message>
        <source>Enter an absolute path.</source>
        <translation>Geben Sie einen absoluten Pfad ein.</translation>
    </message>
    <message>
        <source>%1 is not a folder.</source>
        <translation>%1 ist kein Ordner.</translation>
    </message>
    <message>
        <source>%1 is not writable.</source>
        <translation>%1 ist nicht beschreibbar.</translation>
    </message>
</context>
<context>
    <name>Patchwork::Notifier</name>
    <message>
        <source>Invalid notification backend configuration: %1</source>
        <translation>Ungültige Konfiguration des Benachrichtigungsdienstes: %1</translation>
    </message>
    <message>
        <source>Notification backend not configured</source>
        <translation>Kein Benachrichtigungsdienst konfiguriert</translation>
    </message>
    <message>
        <source>%1 must be a string</source>
        <translation>%1 muss eine Zeichenkette sein</translation>
    </message>
    <message>
        <source>%1 is missing</source>
        <translation>%1 fehlt</translation>
    </message>
    <message>
        <source>%1 contains invalid characters</source>
        <translation>%1 enthält ungültige Zeichen</translation>
    </message>
    <message>
        <source>%1 must be an http or https URL</source>
        <translation>%1 muss eine http- oder https-URL sein</translation>
    </message>
    <message>
        <source>endpoint is missing and user is not a Matrix id like @name:server</source>
        <translation>endpoint fehlt, und user ist keine Matrix-ID wie @name:server</translation>
    </message>
    <message>
        <source>room_id is missing and the notification names no room</source>
        <translation>room_id fehlt, und die Benachrichtigung nennt keinen Raum</translation>
    </message>
    <message>
        <source>headers must be a map of header names to values</source>
        <translation>headers muss Header-Namen auf Werte abbilden</translation>
    </message>
    <message>
        <source>headers: &quot;%1&quot; is not a valid header name</source>
        <translation>headers: „%1“ ist kein gültiger Header-Name</translation>
    </message>
    <message>
        <source>headers: %1 cannot be set</source>
        <translation>headers: %1 kann nicht gesetzt werden</translation>
    </message>
    <message>
        <source>headers: the value of %1 must be a one-line string</source>
        <translation>headers: der Wert von %1 muss eine einzeilige Zeichenkette sein</translation>
    </message>
    <message>
        <source>path must name a channel</source>
        <translation>path muss einen Kanal nennen</translation>
    </message>
    <message>
        <source>path must not contain ?, # or control characters</source>
        <translation>path darf weder ?, # noch Steuerzeichen enthalten</translation>
    </message>
    <message>
        <source>path must not contain . or .. segments</source>
        <translation>path darf keine Segmente . oder .. enthalten</translation>
    </message>
    <message>
        <source>path must not be in the reserved _/ area</source>
        <translation>path darf nicht im reservierten Bereich _/ liegen</translation>
    </message>
    <message>
        <source>unknown type (expected matrix, ntfy, gotify, webhook or channel)</source>
        <translation>unbekannter Typ (erwartet: matrix, ntfy, gotify, webhook oder channel)</translation>
    </message>
</context>
<context>
    <name>Patchwork::Pattern</name>
    <message>
        <source>empty pattern</source>
        <translation>leeres Muster</translation>
    </message>
    <message>
        <source>pattern &quot;!&quot; negates nothing</source>
        <translation>das Muster „!“ verneint nichts</translation>
    </message>
    <message>
        <source>a pattern must not contain control characters</source>
        <translation>ein Muster darf keine Steuerzeichen enthalten</translation>
    </message>
</context>
<context>
    <name>Patchwork::Server::Relay</name>
    <message>
        <source>Cannot set up hook secrets: %1</source>
        <translation>Hook-Geheimnisse können nicht eingerichtet werden: %1</translation>
    </message>
    <message>
        <source>Cannot listen on %1: port %2 is already in use</source>
        <translation>Lauschen auf %1 nicht möglich: Port %2 ist bereits belegt</translation>
    </message>
    <message>
        <source>Cannot listen on %1: permission denied (ports below 1024 need privileges)</source>
        <translation>Lauschen auf %1 nicht möglich: Zugriff verweigert (Ports unter 1024 erfordern Berechtigungen)</translation>
    </message>
    <message>
        <source>Cannot listen on %1: permission denied</source>
        <translation>Lauschen auf %1 nicht möglich: Zugriff verweigert</translation>
    </message>
    <message>
        <source>Cannot listen on %1: the address is not available on this machine</source>
        <translation>Lauschen auf %1 nicht möglich: Die Adresse ist auf diesem Rechner nicht verfügbar</translation>
    </message>
    <message>
        <source>Cannot listen on %1: %2</source>
        <translation>Lauschen auf %1 nicht möglich: %2</translation>
    </message>
</context>
<context>
    <name>Patchwork::UserConfig</name>
    <message>
        <source>a token key must not be empty</source>
        <translation>ein Token-Schlüssel darf nicht leer sein</translation>
    </message>
    <message>
        <source>a token key must be printable ASCII without spaces</source>
        <translation>ein Token-Schlüssel muss aus druckbarem ASCII ohne Leerzeichen bestehen</translation>
    </message>
    <message>
        <source>a &quot;sha256:&quot; token key needs exactly 64 hexadecimal digits</source>
        <translation>ein „sha256:“-Token-Schlüssel braucht genau 64 Hexadezimalziffern</translation>
    </message>
    <message>
        <source>the same token is listed twice</source>
        <translation>dasselbe Token ist zweimal aufgeführt</translation>
    </message>
    <message>
        <source>a key must be a string</source>
        <translation>ein Schlüssel muss eine Zeichenkette sein</translation>
    </message>
    <message>
        <source>a key must not contain control characters</source>
        <translation>ein Schlüssel darf keine Steuerzeichen enthalten</translation>
    </message>
    <message>
        <source>duplicate key &quot;%1&quot;</source>
        <translation>doppelter Schlüssel „%1“</translation>
    </message>
    <message>
        <source>the configuration is too large: more than %1 values with aliases expanded</source>
        <translation>die Konfiguration ist zu groß: mehr als %1 Werte mit aufgelösten Aliasen</translation>
    </message>
    <message>
        <source>the configuration is nested more than %1 levels deep</source>
        <translation>die Konfiguration ist mehr als %1 Ebenen tief verschachtelt</translation>
    </message>
    <message>
        <source>the configuration must be a map (with a &quot;tokens&quot; key)</source>
        <translation>die Konfiguration muss eine Map sein (mit einem Schlüssel „tokens“)</translation>
    </message>
    <message>
        <source>tokens must be a map from token to its permissions</source>
        <translation>tokens muss eine Map von Token auf seine Berechtigungen sein</translation>
    </message>
    <message>
        <source>a token key must be a string</source>
        <translation>ein Token-Schlüssel muss eine Zeichenkette sein</translation>
    </message>
    <message>
        <source>a token entry must be a map (is_admin, GET, POST, …)</source>
        <translation>ein Token-Eintrag muss eine Map sein (is_admin, GET, POST, …)</translation>
    </message>
    <message>
        <source>is_admin must be true or false (unquoted)</source>
        <translation>is_admin muss true oder false sein (ohne Anführungszeichen)</translation>
    </message>
    <message>
        <source>expires_at must be a timestamp such as 2026-12-31T23:59:59Z</source>
        <translation>expires_at muss ein Zeitstempel wie 2026-12-31T23:59:59Z sein</translation>
    </message>
    <message>
        <source>%1 must be a list of strings</source>
        <translation>%1 muss eine Liste von Zeichenketten sein</translation>
    </message>
    <message>
        <source>more than %1 patterns for one token</source>
        <translation>mehr als %1 Muster für ein Token</translation>
    </message>
    <message>
        <source>more than %1 patterns in the file</source>
        <translation>mehr als %1 Muster in der Datei</translation>
    </message>
    <message>
        <source>%1: invalid pattern: %2</source>
        <translation>%1: ungültiges Muster: %2</translation>
    </message>
    <message>
        <source>ntfy must be a map with &quot;type&quot; and &quot;config&quot;</source>
        <translation>ntfy muss eine Map mit „type“ und „config“ sein</translation>
    </message>
    <message>
        <source>ntfy.type must be a string</source>
        <translation>ntfy.type muss eine Zeichenkette sein</translation>
    </message>
    <message>
        <source>ntfy.config must be a map</source>
        <translation>ntfy.config muss eine Map sein</translation>
    </message>
    <message>
        <source>ntfy.config is too large</source>
        <translation>ntfy.config ist zu groß</translation>
    </message>
    <message>
        <source>the file is not text: invalid UTF-8 or a control character</source>
        <translation>die Datei ist kein Text: ungültiges UTF-8 oder ein Steuerzeichen</translation>
    </message>
</context>
<context>
    <name>TrustedProxies</name>
    <message>
        <source>Invalid trusted proxy &quot;%1&quot;: expected an IP address or a CIDR such as 10.0.0.0/8</source>
        <translation>Ungültiger vertrauenswürdiger Proxy „%1“: erwartet wird eine IP-Adresse oder ein CIDR wie 10.0.0.0/8</translation>
    </message>
</context>
</TS>
