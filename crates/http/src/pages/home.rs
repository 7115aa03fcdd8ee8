//! The home page and "how to verify".

use std::fmt::Write as _;

use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use sijil_projector::CaseStatus;

use super::{esc, id_path, labels, utc, Frame, Lang};
use crate::api::committed_entry;
use crate::error::Error;
use crate::params::Query;
use crate::state::AppState;
use crate::store::Io;

/// How many of the latest events the home page lists.
const LATEST: u64 = 10;

/// `GET /`.
pub async fn home_page(State(state): State<AppState>, uri: Uri) -> Result<Response, Error> {
    let q = Query::parse_lenient(&uri, &["lang"]).map_err(|e| e.html(Lang::Fr))?;
    let lang = Lang::of(&q);
    let page = |e: Error| e.html(lang);
    let t = |fr, en| lang.pick(fr, en);
    let snapshot = state.snapshot();
    let today = state.today().map_err(page)?;
    let tree = snapshot.tree();
    let latest = state
        .read(move |store, io: Io| {
            let start = tree.size.saturating_sub(LATEST);
            (start..tree.size)
                .rev()
                .map(|seq| committed_entry(store, tree, seq, io))
                .collect::<Result<Vec<_>, Error>>()
        })
        .await
        .map_err(page)?;
    let view = &snapshot.view;
    let stats = view.stats(today);
    let (title, authority) = view
        .register()
        .map_or(("sijil", ""), |r| (r.title.as_str(), r.authority.as_str()));
    let closed = stats
        .by_status
        .get(&CaseStatus::Closed)
        .copied()
        .unwrap_or(0);
    let sanctions: usize = stats.sanctions_by_kind.values().sum();
    let mut body = format!(
        r#"<h1>{title}</h1>
<p class="lead">{authority}</p>
<section class="intro">
<p>{intro1}</p>
<p>{intro2}</p>
</section>
<section class="stats" aria-label="{stats_label}">
<div><strong>{cases}</strong> {cases_label}</div>
<div><strong>{open}</strong> {open_label}</div>
<div><strong>{overdue}</strong> {overdue_label}</div>
<div><strong>{sanctions}</strong> {sanctions_label}</div>
<div><strong>{fines}</strong> {fines_label}</div>
</section>
<section>
<h2>{latest_label}</h2>
<ol class="events">
"#,
        title = esc(title),
        authority = esc(authority),
        intro1 = t(
            "Ce registre public recense les plaintes et les contrôles en matière de protection des données personnelles, et leurs suites : auditions, délais de mise en conformité, sanctions. Il ne contient aucune donnée personnelle des plaignants.",
            "This public register lists complaints and inspections about personal data protection, and what followed: hearings, compliance deadlines, sanctions. It holds no personal data of complainants."
        ),
        intro2 = t(
            "Chaque événement est signé par l'agent qui l'inscrit et ajouté à un journal public où l'on ne peut qu'ajouter (un journal de transparence) : rien de ce qui y est publié ne peut être modifié ou retiré sans que chacun puisse s'en apercevoir. Vous pouvez le vérifier vous-même, dans votre navigateur ou avec vos propres outils.",
            "Each event is signed by the officer who records it and added to an append-only public log (a transparency log): nothing published there can be changed or removed without anyone being able to notice. You can check it yourself, in your browser or with your own tools."
        ),
        stats_label = t("Statistiques", "Statistics"),
        cases = stats.cases,
        cases_label = t("affaires", "cases"),
        open = stats.cases - closed,
        open_label = t("en cours", "open"),
        overdue = stats.overdue,
        overdue_label = t("en retard sur leur délai", "past their deadline"),
        sanctions_label = t("sanctions notifiées", "sanctions notified"),
        fines = labels::group_digits(stats.fines_total_mad),
        fines_label = t("MAD d'amendes", "MAD in fines"),
        latest_label = t("Derniers événements", "Latest events"),
    );
    for se in &latest {
        let e = &se.entry;
        let case = match &e.case {
            Some(link) => format!(
                r#" · <a href="{}">{} {}</a>"#,
                esc(&lang.href(&id_path("/affaires", &link.id))),
                t("affaire", "case"),
                esc(&link.id)
            ),
            None => String::new(),
        };
        let _ = writeln!(
            body,
            r#"<li><span class="seq">n° {}</span> <time>{}</time> — {}{}</li>"#,
            e.seq,
            utc(e.recorded_at),
            labels::event(lang, e.event.name()),
            case
        );
    }
    let _ = write!(
        body,
        r#"</ol>
<p><a class="button" href="{cases}">{all_cases} →</a></p>
</section>
<section>
<h2>{verify_title}</h2>
<p>{verify_text} <a href="{verify}">{how}</a></p>
</section>"#,
        cases = lang.href("/affaires"),
        all_cases = t("Toutes les affaires", "All cases"),
        verify_title = t("Vérifier", "Verify"),
        verify_text = t(
            "Chaque page d'affaire a un bouton « Vérifier » qui contrôle, dans votre navigateur, la signature du registre, l'inclusion de chaque événement dans le journal et la signature de l'agent.",
            "Each case page has a “Verify” button that checks, in your browser, the register's signature, each event's inclusion in the log and the officer's signature."
        ),
        verify = lang.href("/verification"),
        how = t("Comment vérifier", "How to verify"),
    );
    let frame = Frame {
        lang,
        snapshot: &snapshot,
        uri: &uri,
    };
    Ok(frame.page(t("Accueil", "Home"), &body))
}

/// `GET /verification`: how to check the register, with this site or without it.
pub async fn verification_page(State(state): State<AppState>, uri: Uri) -> Result<Response, Error> {
    let q = Query::parse_lenient(&uri, &["lang"]).map_err(|e| e.html(Lang::Fr))?;
    let lang = Lang::of(&q);
    let t = |fr, en| lang.pick(fr, en);
    let snapshot = state.snapshot();
    let cp = &snapshot.checkpoint.checkpoint;
    let vkey = state.verifier().to_string();
    let body = format!(
        r#"<h1>{title}</h1>
<section>
<h2>1. {key_title}</h2>
<p>{key_text}</p>
<pre class="key">{vkey}</pre>
</section>
<section>
<h2>2. {browser_title}</h2>
<p>{browser_text}</p>
<ul>
<li>{b1}</li>
<li>{b5}</li>
<li>{b2}</li>
<li>{b6}</li>
<li>{b3}</li>
<li>{b4}</li>
<li>{b7}</li>
</ul>
<p>{b8}</p>
</section>
<section>
<h2>3. {offline_title}</h2>
<p>{offline_text}</p>
<ol>
<li>{o1}</li>
<li>{o2}</li>
<li>{o3}</li>
</ol>
<pre>message = "sijil/event/v1\n" ‖ origin ‖ "\n" ‖ {entry_bytes}[..len−64]
{leaf} = SHA-256(0x00 ‖ {entry_bytes})</pre>
</section>
<section>
<h2>4. {log_title}</h2>
<p>{log_text}</p>
<ul>
<li><a href="/checkpoint"><code>/checkpoint</code></a> — {checkpoint_text} ({size} {entries})</li>
<li><code>/tile/&lt;L&gt;/&lt;N&gt;[.p/&lt;W&gt;]</code>, <code>/tile/entries/&lt;N&gt;[.p/&lt;W&gt;]</code> — {tiles_text}</li>
<li><code>/blobs/&lt;{digest}&gt;</code> — {blobs_text}</li>
<li><code>/api/v1/proof/inclusion?index=&amp;size=</code>, <code>/api/v1/proof/consistency?from=&amp;to=</code> — {api_text} (<a href="/api/v1/openapi.json">OpenAPI</a>)</li>
</ul>
</section>"#,
        title = t("Comment vérifier ce registre", "How to verify this register"),
        key_title = t("La clé du registre", "The register's key"),
        key_text = t(
            "Tout repose sur cette clé publique. Comparez-la avec celle que l'autorité publie ailleurs (journal officiel, autre site) : si elles diffèrent, ne faites pas confiance à ce site.",
            "Everything rests on this public key. Compare it with the one the authority publishes elsewhere (official journal, another site): if they differ, do not trust this site."
        ),
        vkey = esc(&vkey),
        browser_title = t("Dans votre navigateur", "In your browser"),
        browser_text = t(
            "Sur chaque page d'affaire, le bouton « Vérifier » fait les contrôles suivants dans votre navigateur, avec WebCrypto (Ed25519, SHA-256), sans bibliothèque et sans faire confiance au serveur :",
            "On each case page, the “Verify” button runs these checks in your browser, with WebCrypto (Ed25519, SHA-256), no library, without trusting the server:"
        ),
        b1 = t(
            "le point de contrôle (taille et racine de l'arbre de Merkle) est signé par la clé ci-dessus ;",
            "the checkpoint (the Merkle tree's size and root) is signed by the key above;"
        ),
        b2 = t(
            "chaque événement de l'affaire est inclus dans cet arbre (preuve d'inclusion RFC 9162), et ses octets sont décodés dans votre navigateur ;",
            "each event of the case is included in that tree (RFC 9162 inclusion proof), and its bytes are decoded in your browser;"
        ),
        b5 = t(
            "le registre n'a pas été réécrit depuis votre dernière visite : preuve de cohérence depuis le dernier point de contrôle vu par ce navigateur, et, si vous en avez épinglé, les cosignatures des témoins ;",
            "the register was not rewritten since your last visit: a consistency proof from the last checkpoint this browser saw, and, if you pinned any, the witnesses' cosignatures;"
        ),
        b6 = t(
            "l'affaire est complète : l'index que le registre signe dans la dernière entrée de chaque point de contrôle prouve qu'elle a exactement ces événements, aucun de plus, aucun de moins ;",
            "the case is complete: the index the register signs in the last entry of every checkpoint proves it has exactly these events, none more, none fewer;"
        ),
        b7 = t(
            "chaque agent signataire était habilité, et non révoqué, à la date de l'événement (prouvé par l'index de sa clé).",
            "each signing officer was authorized, and not revoked, at the event (proved by the index of their key)."
        ),
        b8 = t(
            "La page est ensuite redessinée à partir des seuls événements vérifiés ; ce que le serveur affichait d'autre est signalé. En ligne de commande : sijil verify URL --key CLÉ --case AFFAIRE.",
            "The page is then redrawn from the verified events alone; anything else the server showed is flagged. On the command line: sijil verify URL --key KEY --case CASE."
        ),
        b3 = t(
            "chaque événement est signé par l'agent qui l'a inscrit (Ed25519) ;",
            "each event is signed by the officer who recorded it (Ed25519);"
        ),
        b4 = t(
            "chaque texte affiché correspond à l'empreinte inscrite dans l'événement signé ;",
            "each text shown matches the digest recorded in the signed event;"
        ),
        offline_title = t("Hors ligne, pour un événement", "Offline, for one event"),
        offline_text = t(
            "Chaque événement se télécharge avec sa preuve au format C2SP tlog-proof (fichier .tlog-proof) et ses octets exacts. Avec la clé, n'importe qui peut vérifier plus tard, sans ce site :",
            "Each event can be downloaded with its proof in the C2SP tlog-proof format (a .tlog-proof file) and its exact bytes. With the key, anyone can check later, without this site:"
        ),
        o1 = t(
            "la signature du point de contrôle contenu dans la preuve ;",
            "the signature of the checkpoint inside the proof;"
        ),
        o2 = t(
            "l'inclusion de l'empreinte de l'événement à l'index indiqué ;",
            "the inclusion of the event's leaf hash at the index given;"
        ),
        o3 = t(
            "la signature de l'agent sur l'événement :",
            "the officer's signature on the event:"
        ),
        entry_bytes = t("octets", "bytes"),
        leaf = t("empreinte", "leaf_hash"),
        log_title = t("Tout le journal", "The whole log"),
        log_text = t(
            "Le journal est publié au format ouvert C2SP tlog-tiles : tout outil compatible peut le copier, recalculer l'arbre et vérifier qu'aucun point de contrôle ne contredit le précédent.",
            "The log is published in the open C2SP tlog-tiles format: any compatible tool can copy it, recompute the tree and check that no checkpoint contradicts the one before."
        ),
        checkpoint_text = t("le point de contrôle signé", "the signed checkpoint"),
        size = cp.size,
        entries = t("entrées", "entries"),
        tiles_text = t(
            "les tuiles de hachés et les lots d'entrées, immuables",
            "hash tiles and entry bundles, immutable"
        ),
        digest = t("empreinte", "digest"),
        blobs_text = t(
            "les textes effaçables (sel de 32 octets puis texte) ; leur SHA-256 est leur nom",
            "the erasable texts (32-byte salt, then text); their SHA-256 is their name"
        ),
        api_text = t("preuves à la demande", "proofs on demand"),
    );
    let frame = Frame {
        lang,
        snapshot: &snapshot,
        uri: &uri,
    };
    Ok(frame.page(t("Vérifier", "Verify"), &body))
}
