# sijil's pages in French. One message per id; the same ids in ar.ftl and en.ftl.
# Plurals follow CLDR (French: "one" for 0 and 1). Numbers are formatted by the server
# (Western digits, thousands grouped with a no-break space); dates are ISO 8601.

## The frame of every page

skip-to-content = Aller au contenu
nav-label = Menu principal
nav-languages = Langue
nav-cases = Affaires
nav-controllers = Responsables
nav-stats = Statistiques
nav-verify = Comment vérifier
footer-checkpoint = Cette page montre le registre au point de contrôle signé de { $n ->
    [one] { $n } entrée
   *[other] { $n } entrées
}
footer-root = racine
footer-checkpoint-link = point de contrôle

## Counts

count-cases = { $n ->
    [one] { $n } affaire
   *[other] { $n } affaires
}
count-entries = { $n ->
    [one] { $n } entrée
   *[other] { $n } entrées
}
count-overdue = { $n ->
    [one] { $n } en retard sur son délai
   *[other] { $n } en retard sur leur délai
}
index-covers = { $n ->
    [one] la première entrée du registre
   *[other] les { $n } premières entrées du registre
}

## Home

home-title = Accueil
home-intro-1 = Ce registre public recense les plaintes et les contrôles en matière de protection des données personnelles, et leurs suites : auditions, délais de mise en conformité, sanctions. Il ne contient aucune donnée personnelle des plaignants.
home-intro-2 = Chaque événement est signé par l'agent qui l'inscrit et ajouté à un journal public où l'on ne peut qu'ajouter : rien de ce qui y est publié ne peut être modifié ou retiré sans que chacun puisse s'en apercevoir. Vous pouvez le vérifier vous-même, dans votre navigateur ou avec vos propres outils.
home-stats-label = Chiffres clés
stat-cases = { $n ->
    [one] affaire
   *[other] affaires
}
stat-open = { $n ->
    [one] en cours
   *[other] en cours
}
stat-overdue = { $n ->
    [one] en retard sur son délai
   *[other] en retard sur leur délai
}
stat-sanctions = { $n ->
    [one] sanction notifiée
   *[other] sanctions notifiées
}
stat-fines = MAD d'amendes
overdue-judged-on = Retard apprécié au { $date }, date du jour de cette page.
home-latest = Dernières inscriptions au registre
home-latest-note = Dans l'ordre de leur inscription ; la date est celle de l'événement lui-même.
recorded-on = inscrit le { $date }
due-on = échéance le { $date }
home-all-cases = Toutes les affaires
home-all-stats = Toutes les statistiques
home-verify-title = Vérifier
home-verify-text = Chaque page d'affaire a un bouton « Vérifier » qui contrôle, dans votre navigateur, la signature du registre, l'inclusion de chaque événement dans le journal et la signature de l'agent.
home-verify-how = Comment vérifier ce registre

## Statistics and charts

stats-title = Statistiques
chart-by-category = Affaires par catégorie (une affaire à plusieurs catégories compte une fois dans chacune)
chart-by-status = Affaires par statut
chart-by-year = Affaires par année d'ouverture
chart-deadlines = Délais de mise en conformité : respectés ou non
chart-by-sanction = Sanctions notifiées, par type
chart-summary = { $name } : { $n } au total.
chart-show-figures = Voir les chiffres
chart-count = Nombre
deadline-kept = Respectés
deadline-missed = Non respectés
deadline-pending = En cours

## Case list

cases-title = Affaires
cases-matching = { $n ->
    [one] { $n } affaire correspond
   *[other] { $n } affaires correspondent
}
filter-any = Tous
filter-controller = Responsable (identifiant)
filter-controller-hint = ex. cafe-atlas
filter-opened-from = Ouverte du
filter-opened-to = au
filter-submit = Filtrer
pager-label = Pages
pager-first = ← Début
pager-next = Suivantes →
pager-previous = ← Précédents
col-case = Affaire
col-controller = Responsable
col-category = Catégories
col-opened = Ouverte le
col-status = Statut
col-deadline = Délai
col-name = Nom
col-id = Identifiant
col-open = En cours
badge-overdue = en retard
badge-not-yet-due = pas encore échu
badge-missed = non respecté
open-data-label = Données ouvertes :
open-data-cases = affaires
open-data-events = événements
open-data-feed = flux Atom

## A case

case-title = Affaire { $id }
opened-by-complaint = sur plainte
opened-by-inspection = sur contrôle d'office
fact-controller = Responsable du traitement
fact-latest-hearing = Dernière audition
fact-deadline = Délai de mise en conformité
fact-sanction = Sanction
fact-sanction-value = { $sanction } — { $date } ({ $basis })
fact-complied-on = Mise en conformité constatée le
fact-closed-on = Clôturée le
fact-decision = Décision
fact-appeal = Recours
appeal-pending = en cours
case-feed-label = Suivre cette affaire :
verify-title = Vérifier cette affaire
verify-text = Votre navigateur vérifie lui-même, sans faire confiance à ce serveur : la signature du registre sur son point de contrôle, que le registre n'a pas été réécrit depuis votre dernière visite, que l'affaire est complète (l'index signé par le registre), l'inclusion et la signature de chaque événement, l'habilitation de chaque agent, et les textes. Puis il n'affiche que ce qu'il a vérifié.
verify-button = Vérifier
verify-noscript = JavaScript est désactivé : ce navigateur ne peut pas vérifier cette page. Vous pouvez la vérifier sans navigateur, avec l'outil en ligne de commande sijil (URL : l'adresse de ce site) :
verify-key-label = Clé publique du registre utilisée
verify-key-text = Comparez-la avec la clé publiée par l'autorité, puis épinglez-la : ce navigateur la gardera et refusera un site qui en donne une autre. Vous pouvez en coller une autre.
verify-pin = Épingler cette clé
verify-unpin = Oublier la clé épinglée
verify-witnesses = Témoins
verify-witnesses-text = Clés de témoins (c2sp.org/tlog-cosignature) en qui vous avez confiance, une par ligne : leurs cosignatures du point de contrôle seront vérifiées et comptées. Quorum : combien il en faut (tous, si vide).
verify-quorum = Quorum
verify-save = Enregistrer
timeline = Chronologie
entry-number = n° { $seq }
recorded-by = Inscrit le { $date } par { $name }
note-corrected-by = Corrigé par l'entrée
note-erased = Texte effacé le { $date } ({ $reason })
note-amended = Rectifié ({ $field }) : { $old } → { $new }, par
link-proof = preuve (.tlog-proof)
link-bytes = octets de l'entrée
link-leaf-hash = empreinte
text-erased = Texte effacé
text-absent = Texte absent de ce serveur
text-invalid = Texte invalide : il ne correspond pas à l'empreinte signée

## An event's facts

row-origin = Origine
row-title = Titre
row-authority = Autorité
row-officers = Agents
row-officer = Agent
row-key = Clé
row-reason = Motif
row-controller = Responsable
row-category = Catégories
row-received-on = Reçue le
row-summary = Résumé
row-opened-on = Ouvert le
row-scope = Objet
row-date = Date
row-place = Lieu
row-due-on = Échéance
row-obligations = Obligations
row-new-due-on = Nouvelle échéance
row-confirmed-on = Constatée le
row-note = Note
row-notified-on = Notifiée le
row-sanction = Sanction
row-legal-basis = Base légale
row-reasons = Motifs
row-on = Le
row-authorities = Autorités
row-closed-on = Clôturée le
row-outcome = Issue
row-corrects = Corrige l'entrée
row-erratum = Rectificatif
row-erases = Efface le texte de l'entrée
row-indexed = Entrées indexées
row-keys = Clés
row-index-root = Racine de l'index
row-new-log-key = Nouvelle clé du registre
row-decided-on = Décidé le
row-forwarded-on = Transmise le
row-forwarded-to = Transmise à
row-suspended-on = Suspendue le
row-resumed-on = Reprise le
row-published-on = Publiée le
row-decision-number = Numéro de la décision
row-lodged-on = Formé le
row-court = Juridiction
row-appellant = Formé par
row-ruled-on = Jugé le
row-ruling = Dispositif
row-reopened-on = Rouverte le
row-amends = Rectifie l'entrée
row-amended-field = Champ
row-new-value = Nouvelle valeur

## Controllers

controllers-title = Responsables du traitement
controllers-count = { $n ->
    [one] { $n } responsable
   *[other] { $n } responsables
}
controller-id = Identifiant :
controller-former-names = Anciens noms :
controller-feed-label = Suivre ce responsable :

## Errors

error-not-found = Introuvable
error-bad-request = Demande incorrecte
error-bad-request-text = L'adresse demandée contient un paramètre que cette page ne comprend pas.
error-parameter = Paramètre :
error-detail-english = Détail technique (en anglais) :
error-server = Erreur du serveur
error-server-text = Le serveur n'a pas pu répondre. Réessayez plus tard.
error-back-home = Retour à l'accueil
error-no-case = Aucune affaire n'a le numéro { $id }.
error-no-controller = Aucun responsable n'a l'identifiant { $id }.
error-no-page = Aucune page à cette adresse.

## The register's words

status-open = Ouverte
status-under-investigation = En instruction
status-awaiting-compliance = En attente de mise en conformité
status-complied = Mise en conformité constatée
status-sanctioned = Sanctionnée
status-closed = Clôturée
status-suspended = Procédure suspendue
status-under-appeal = En recours
status-reopened = Rouverte
status-inadmissible = Irrecevable
status-forwarded = Transmise à une autre autorité
category-privacy = Vie privée
category-image = Droit à l'image
category-identity-theft = Usurpation d'identité
category-right-to-erasure = Droit à l'effacement
category-geolocation = Géolocalisation
category-profiling = Profilage
category-video-surveillance = Vidéosurveillance
category-cross-border-transfer = Transfert vers l'étranger
category-unsolicited-marketing = Prospection non sollicitée
category-other = Autre
sanction-warning = Avertissement
sanction-formal-notice = Mise en demeure
sanction-fine = Amende
sanction-suspension = Suspension
sanction-referral-to-prosecutor = Saisine du procureur
sanction-other = Sanction
sanction-fine-amount = Amende ({ $n } MAD)
outcome-complied = Mise en conformité
outcome-sanctioned = Sanctionnée
outcome-dismissed = Classée sans suite
outcome-withdrawn = Plainte retirée
outcome-referred = Transmise
ruling-upheld = Décision confirmée
ruling-annulled = Décision annulée
ruling-partially-annulled = Décision partiellement annulée
ruling-appeal-dismissed = Recours rejeté
appellant-controller = le responsable du traitement
appellant-complainant = le plaignant
appellant-other = une autre partie
amended-date = date
amended-due-on = date d'échéance
amended-controller = responsable du traitement
amended-categories = catégories
event-RegisterOpened = Ouverture du registre
event-OfficerAuthorized = Agent habilité
event-OfficerRevoked = Habilitation retirée
event-ComplaintReceived = Plainte reçue
event-InspectionOpened = Contrôle
event-HearingHeld = Audition
event-ComplianceDeadlineSet = Délai de mise en conformité
event-DeadlineExtended = Délai prolongé
event-ComplianceConfirmed = Mise en conformité constatée
event-SanctionNotified = Sanction notifiée
event-AuthoritiesNotified = Autorités informées
event-CaseClosed = Affaire clôturée
event-Correction = Rectificatif
event-Erasure = Effacement
event-IndexCommitted = Index engagé par le registre
event-LogKeyRotated = Clé du registre renouvelée
event-ComplaintInadmissible = Plainte déclarée irrecevable
event-ComplaintForwarded = Plainte transmise
event-ProceedingsSuspended = Procédure suspendue
event-ProceedingsResumed = Procédure reprise
event-DecisionPublished = Décision publiée
event-AppealLodged = Recours formé
event-CourtRuling = Jugement
event-CaseReopened = Affaire rouverte
event-Amendment = Rectification
event-other = Événement

## How to check this register

how-title = Comment vérifier ce registre
how-plain-1 = Ce site pourrait mentir : modifier une affaire, en cacher une, ou montrer à chacun une version différente. Ce registre est fait pour que cela se voie.
how-plain-2 = Chaque inscription est signée par l'agent qui l'a faite, puis scellée dans un journal où l'on ne peut qu'ajouter. L'autorité signe régulièrement un résumé de tout le journal. Avec ce résumé et quelques calculs, n'importe qui peut s'assurer qu'une affaire est bien celle que l'autorité a publiée, complète, et que rien n'a été réécrit depuis.
how-step-1 = Vérifiez une fois la clé du registre (plus bas) : elle doit être celle que l'autorité publie ailleurs.
how-step-2 = Sur la page d'une affaire, appuyez sur « Vérifier » : votre navigateur refait les calculs et dit ce qu'il a vérifié.
how-step-3 = Pour garder une preuve, téléchargez le fichier de preuve d'un événement : il se vérifie plus tard, sans ce site.
how-words-title = Les mots employés
how-term-log = Journal
how-term-log-text = La liste de toutes les inscriptions, dans l'ordre. On peut y ajouter, jamais y modifier ou retirer : cela se verrait.
how-term-checkpoint = Point de contrôle
how-term-checkpoint-text = Le résumé du journal que l'autorité signe : combien d'inscriptions il contient, et sa racine.
how-term-root = Racine
how-term-root-text = Un nombre calculé à partir de toutes les inscriptions (un arbre de Merkle) : changer une seule inscription change la racine.
how-term-digest = Empreinte
how-term-digest-text = Un court nombre (SHA-256) calculé à partir d'un texte ou d'une inscription : deux contenus différents n'ont jamais la même empreinte.
how-term-proof = Preuve (fichier .tlog-proof)
how-term-proof-text = Les quelques empreintes qui relient une inscription à la racine signée : avec elles, on vérifie qu'elle fait partie du journal sans télécharger tout le journal.
how-term-key = Clé publique
how-term-key-text = Ce qui permet de vérifier une signature. La clé du registre vérifie les points de contrôle ; chaque agent a la sienne.
how-term-witness = Témoin
how-term-witness-text = Un tiers indépendant qui contresigne les points de contrôle : le registre ne peut alors montrer à chacun une version différente sans se faire prendre.
how-key-title = La clé du registre
how-key-text = Tout repose sur cette clé publique. Comparez-la avec celle que l'autorité publie ailleurs (journal officiel, autre site) : si elles diffèrent, ne faites pas confiance à ce site.
how-browser-title = Dans votre navigateur
how-browser-text = Sur chaque page d'affaire, le bouton « Vérifier » fait les contrôles suivants dans votre navigateur, avec WebCrypto (Ed25519, SHA-256), sans bibliothèque et sans faire confiance au serveur :
how-b1 = le point de contrôle (taille et racine de l'arbre de Merkle) est signé par la clé ci-dessus ;
how-b2 = le registre n'a pas été réécrit depuis votre dernière visite : preuve de cohérence depuis le dernier point de contrôle vu par ce navigateur, et, si vous en avez épinglé, les cosignatures des témoins ;
how-b3 = chaque événement de l'affaire est inclus dans cet arbre (preuve d'inclusion RFC 9162), et ses octets sont décodés dans votre navigateur ;
how-b4 = l'affaire est complète : l'index que le registre signe dans la dernière entrée de chaque point de contrôle prouve qu'elle a exactement ces événements, aucun de plus, aucun de moins ;
how-b5 = chaque événement est signé par l'agent qui l'a inscrit (Ed25519) ;
how-b6 = chaque texte affiché correspond à l'empreinte inscrite dans l'événement signé ;
how-b7 = chaque agent signataire était habilité, et non révoqué, à la date de l'événement (prouvé par l'index de sa clé).
how-b8 = La page est ensuite redessinée à partir des seuls événements vérifiés ; ce que le serveur affichait d'autre est signalé. Sans navigateur, en ligne de commande :
how-offline-title = Hors ligne, pour un événement
how-offline-text = Chaque événement se télécharge avec sa preuve au format C2SP tlog-proof (fichier .tlog-proof) et ses octets exacts. Avec la clé, n'importe qui peut vérifier plus tard, sans ce site :
how-o1 = la signature du point de contrôle contenu dans la preuve ;
how-o2 = l'inclusion de l'empreinte de l'événement à l'index indiqué ;
how-o3 = la signature de l'agent sur l'événement :
how-log-title = Tout le journal
how-log-text = Le journal est publié au format ouvert C2SP tlog-tiles : tout outil compatible peut le copier, recalculer l'arbre et vérifier qu'aucun point de contrôle ne contredit le précédent.
how-checkpoint-text = le point de contrôle signé ({ $n ->
    [one] { $n } entrée
   *[other] { $n } entrées
})
how-tiles-text = Les tuiles de hachés et les lots d'entrées sont immuables ; les textes effaçables (sel de 32 octets puis texte) ont pour nom leur SHA-256 ; l'API donne les preuves à la demande.

## Feeds

feed-events-title = Nouveaux événements du registre
feed-case-title = Affaire { $id } : ses événements
feed-controller-title = { $name } : événements de ses affaires
feed-item-title = { $name } — affaire { $id }
feed-item-summary = { $name }, affaire { $id }, le { $date } (entrée n° { $seq }). Vérifiable sur la page de l'affaire.
