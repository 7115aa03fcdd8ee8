//! Issue 13, the clerk's spreadsheet: `sijil import` of a CSV export (docs/FORMAT.md §5.1)
//! through the built binary. A good export is one commit that audits; a sheet with bad rows
//! lists every one of them (file, row, column) and writes nothing; Arabic text, Excel's BOM
//! and CRLF line ends are read as a clerk's spreadsheet writes them.

use serde_json::Value;

use crate::util::{fails, ok, s, Register};

const CASES_HEADER: &str =
    "case,controller_id,controller_name,categories,opened_on,opening,summary";
const EVENTS_HEADER: &str = "case,type,date,place,due_on,sanction,amount_mad,legal_basis,outcome,authorities,to,decision_number,court,by,ruling,target,field,value,text";

fn write(reg: &Register, name: &str, text: &str) -> std::path::PathBuf {
    let p = reg.tmp.path().join(name);
    std::fs::write(&p, text).expect("write csv");
    p
}

fn case(reg: &Register, id: &str) -> Value {
    serde_json::from_str(&ok(&["show", reg.dir(), "--case", id, "--json"])).expect("json")
}

#[test]
fn issue13_import_of_a_clerks_csv_export() {
    let reg = Register::new();
    let cases = write(
        &reg,
        "cases.csv",
        &format!(
            "{CASES_HEADER}\n2024-0001,acme,\"ACME, SARL\",privacy;image,2024-01-08,complaint,\"Faux profil, signalé \"\"deux fois\"\"\"\n2024-0002,telecom-z,Télécom Z,unsolicited_marketing,2024-02-01,inspection,\n"
        ),
    );
    let events = write(
        &reg,
        "events.csv",
        &format!(
            "{EVENTS_HEADER}\n2024-0001,HearingHeld,2024-02-12,Rabat,,,,,,,,,,,,,,,\n2024-0001,Amendment,,,,,,,,,,,,,,#1,date,2024-02-13,Erreur de saisie.\n2024-0001,SanctionNotified,2024-04-01,,,fine,20000,\"Loi 09-08, art. 51\",,,,,,,,,,,\n2024-0001,CaseClosed,2024-04-10,,,,,,sanctioned,,,,,,,,,,\n2024-0002,AuthoritiesNotified,2024-02-20,,,,,,,ANRT;Parquet,,,,,,,,,\n"
        ),
    );
    let key = s(&reg.officer_key);
    let before = reg.published();
    let out = ok(&[
        "import",
        reg.dir(),
        "--key",
        key,
        s(&cases),
        s(&events),
        "--dry-run",
    ]);
    assert!(out.starts_with("Dry run: the 7 events pass"), "{out}");
    assert_eq!(reg.published(), before, "a dry run writes nothing");

    let out = ok(&["import", reg.dir(), "--key", key, s(&cases), s(&events)]);
    // init wrote entries 0 and 1: the seven rows are entries 2 to 8, then the index entry.
    assert!(
        out.starts_with("Imported 7 events (cases opened: 2, events on cases: 5) as entries 2 to 8; the log now has 10 entries."),
        "{out}"
    );
    reg.verify();
    let c = case(&reg, "2024-0001");
    assert_eq!(c["case"]["outcome"], "sanctioned", "{c}");
    assert_eq!(c["case"]["sanctions"][0]["amount_mad"], 20000);
    assert_eq!(c["case"]["controller"]["name"], "ACME, SARL");
    assert_eq!(
        c["case"]["hearings"][0]["held_on"], "2024-02-13",
        "as amended"
    );
    let c = case(&reg, "2024-0002");
    assert_eq!(c["case"]["controller"]["name"], "Télécom Z");
}

#[test]
fn issue13_import_lists_every_bad_row_and_writes_nothing() {
    let reg = Register::new();
    let cases = write(
        &reg,
        "cases.csv",
        &format!(
            "{CASES_HEADER}\n2024-0001,acme,ACME,privacy,2024-02-30,complaint,\n2024-0002,acme,ACME,colour,2024-01-01,complaint,\n2024-0003,acme,ACME,privacy,2024-01-01,complaint,\n"
        ),
    );
    let events = write(
        &reg,
        "events.csv",
        &format!(
            "{EVENTS_HEADER}\n2024-0003,HearingHeld,2024-02-12,,,,,,,,,,,,,,,,\n2024-0003,CaseClosed,2024-03-01,,,,,,finished,,,,,,,,,,\n2024-0003,SanctionNotified,2024-03-01,,,fine,lots,,,,,,,,,,,,\n"
        ),
    );
    let key = s(&reg.officer_key);
    let before = reg.published();
    let err = fails(
        &["import", reg.dir(), "--key", key, s(&cases), s(&events)],
        2,
        "5 rows cannot be read, listed above; nothing was written",
    );
    let c = s(&cases).to_string();
    let e = s(&events).to_string();
    for want in [
        format!("{c}: row 2, column opened_on: "),
        format!("{c}: row 3, column categories: "),
        format!("{e}: row 2, column place: empty; HearingHeld needs it"),
        format!("{e}: row 3, column outcome: "),
        format!("{e}: row 4, column amount_mad: \"lots\""),
        format!("{e}: row 4, column legal_basis: empty"),
    ] {
        assert!(err.contains(&want), "stderr lacks {want:?}:\n{err}");
    }
    assert_eq!(reg.published(), before, "nothing written");

    // Rows that read but break the register's rules: each listed, nothing written.
    let cases = write(
        &reg,
        "cases2.csv",
        &format!(
            "{CASES_HEADER}\n2024-0001,acme,ACME,privacy,2024-01-10,complaint,\n2024-0002,acme,ACME,privacy,2024-01-10,complaint,\n2024-0003,acme,ACME,privacy,2024-01-10,complaint,\n"
        ),
    );
    let events = write(
        &reg,
        "events2.csv",
        &format!(
            "{EVENTS_HEADER}\n2024-0001,HearingHeld,2024-01-05,Rabat,,,,,,,,,,,,,,,\n2024-0001,CaseClosed,2024-03-01,,,,,,complied,,,,,,,,,,\n2024-0002,ProceedingsResumed,2024-02-01,,,,,,,,,,,,,,,,\n2024-0003,HearingHeld,2024-02-01,Rabat,,,,,,,,,,,,,,,\n2024-0009,HearingHeld,2024-02-01,Rabat,,,,,,,,,,,,,,,\n"
        ),
    );
    for dry in [true, false] {
        let mut args = vec!["import", reg.dir(), "--key", key, s(&cases), s(&events)];
        if dry {
            args.push("--dry-run");
        }
        let err = fails(&args, 1, "3 rows refused by the register's rules");
        let e = s(&events).to_string();
        for want in [
            format!("{e}: row 2: HearingHeld is rejected: "),
            "(the later rows of case 2024-0001 were not checked: 3)".to_string(),
            format!("{e}: row 4: ProceedingsResumed is rejected: "),
            format!("{e}: row 6: HearingHeld is rejected: "),
        ] {
            assert!(err.contains(&want), "stderr lacks {want:?}:\n{err}");
        }
        assert!(!err.contains("row 5"), "the good row is not listed:\n{err}");
        assert_eq!(reg.published(), before, "nothing written");
    }
}

#[test]
fn issue13_import_reads_arabic_with_excels_bom_and_crlf() {
    let reg = Register::new();
    // What Excel's "CSV UTF-8" writes: a BOM, CRLF, quotes around cells with a comma or a
    // line break.
    let cases = format!(
        "\u{feff}{CASES_HEADER}\r\n2024-0001,ittisalat,\"شركة الاتصالات، فرع الرباط\",privacy;geolocation,2024-03-03,complaint,\"تتبع الموقع\r\nدون موافقة\"\r\n"
    );
    let events = format!(
        "\u{feff}{EVENTS_HEADER}\r\n2024-0001,HearingHeld,2024-03-20,الدار البيضاء,,,,,,,,,,,,,,,محضر الجلسة\r\n,,,,,,,,,,,,,,,,,,\r\n"
    );
    let cases = write(&reg, "cases.csv", &cases);
    let events = write(&reg, "events.csv", &events);
    let out = ok(&[
        "import",
        reg.dir(),
        "--key",
        s(&reg.officer_key),
        s(&cases),
        s(&events),
    ]);
    assert!(out.starts_with("Imported 2 events"), "{out}");
    reg.verify();
    let c = case(&reg, "2024-0001");
    assert_eq!(c["case"]["controller"]["name"], "شركة الاتصالات، فرع الرباط");
    assert_eq!(c["case"]["hearings"][0]["place"], "الدار البيضاء");
    let text = ok(&["show", reg.dir(), "--case", "2024-0001", "--json"]);
    assert!(text.contains("تتبع الموقع\\r\\nدون موافقة"), "{text}");
}

#[test]
fn issue13_import_lets_the_register_number_new_cases() {
    let reg = Register::new();
    let cases = write(
        &reg,
        "cases.csv",
        &format!("{CASES_HEADER}\nauto:a,acme,ACME,privacy,2024-05-02,complaint,\nauto,acme,ACME,image,2024-05-03,complaint,\n"),
    );
    let events = write(
        &reg,
        "events.csv",
        &format!("{EVENTS_HEADER}\nauto:a,HearingHeld,2024-05-20,Rabat,,,,,,,,,,,,,,,\n"),
    );
    let out = ok(&[
        "import",
        reg.dir(),
        "--key",
        s(&reg.officer_key),
        s(&cases),
        s(&events),
    ]);
    let c = s(&cases).to_string();
    assert!(
        out.contains(&format!(
            "{c}: row 2: auto:a opened case 2024-0001 (entry 2)"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!("{c}: row 3: auto opened case 2024-0002 (entry 3)")),
        "{out}"
    );
    assert_eq!(
        case(&reg, "2024-0001")["case"]["hearings"][0]["place"],
        "Rabat"
    );
    reg.verify();
}
