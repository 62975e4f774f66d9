<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en" sourcelanguage="en">
<context>
    <name>Patchwork::Client::Subscription</name>
    <message numerus="yes">
        <source>No data from the server for %n second(s)</source>
        <translation>
            <numerusform>No data from the server for %n second</numerusform>
            <numerusform>No data from the server for %n seconds</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>Patchwork::Gui::DesktopNotifier</name>
    <message numerus="yes">
        <source>%n more from %1</source>
        <translation>
            <numerusform>%n more from %1</numerusform>
            <numerusform>%n more from %1</numerusform>
        </translation>
    </message>
</context>
</TS>
