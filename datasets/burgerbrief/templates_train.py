"""Templates for the TRAIN split. The dev split has its own templates (templates_dev.py), written
separately with other sentence structures, so the dev score measures generalisation, not recall
of these sentences. Syntax: [a|b|c] picks one alternative; {slot} is filled from SLOTS.

Each entry: (label, category, urgent, template).
"""

SLOTS = {
    "regeling": ["huurtoeslag", "zorgtoeslag", "kinderopvangtoeslag", "toeslag", "WW-uitkering", "bijstand",
                 "AOW", "kinderbijslag", "energietoeslag", "teruggave", "voorlopige aanslag", "uitkering"],
    "doc": ["paspoort", "rijbewijs", "ID-kaart", "parkeervergunning", "uittreksel", "verblijfsvergunning", "DigiD"],
    "periode": ["drie weken", "2 maanden", "een half jaar", "6 weken", "sinds maart", "al weken", "ruim een maand",
                "10 weken", "een jaar"],
    "straat": ["Kerkstraat", "Dorpsweg", "Molenweg", "Julianalaan", "Stationsplein", "Beukenlaan", "Havenkade",
               "Marktplein", "Schoolstraat", "Parkweg"],
    "stad": ["Utrecht", "Zwolle", "Tilburg", "Groningen", "Almere", "Leiden", "Enschede", "Breda", "Arnhem"],
    "ding": ["lantaarnpaal", "stoeptegel", "prullenbak", "verkeerslicht", "bankje", "fietsenrek", "putdeksel"],
    "onderwerp": ["de nieuwe woonwijk", "het azc", "de windmolens", "de bezuinigingen op jeugdzorg",
                  "de sluiting van het zwembad", "de stikstofaanpak", "het parkeerbeleid", "de kap van de bomen"],
    "nummer": ["2025-48213", "Z-2026-0091", "BZ/4471", "88123", "2026/113/AB", "ZK25-7781"],
    "org": ["gemeente", "Belastingdienst", "UWV", "DUO", "SVB", "Toeslagen", "Rijksoverheid", "politie", "CJIB"],
    "emoji_neg": ["🙄", "😡", "🤦", "😂", "🤡", "💩", "🥱", "😤", "🙈"],
    "emoji_pos": ["👍", "👏", "💪", "❤️", "🙌", "😊"],
    "politicus": ["de minister", "de premier", "de wethouder", "de burgemeester", "het kabinet", "Den Haag"],
}

POSITIVE = [
    # vraag
    (True, "vraag", False, "Hoe [kan|moet] ik [mijn |]{regeling} aanvragen [als ik geen DigiD heb|als ik net verhuisd ben|nu ik zzp'er ben|vanuit het buitenland]?"),
    (True, "vraag", False, "Wanneer wordt [de|mijn] {regeling} [uitbetaald|overgemaakt|gestort] [deze maand|in januari|na de wijziging]?"),
    (True, "vraag", False, "[Vraagje|Vraag|Even een vraag]: [geldt dit ook voor|valt] [mensen met een WW-uitkering|studenten|gepensioneerden|alleenstaande ouders] [hieronder|ook]?"),
    (True, "vraag", False, "Moet ik [dit|de wijziging|mijn nieuwe inkomen] zelf doorgeven of gaat dat automatisch?"),
    (True, "vraag", False, "Waar kan ik [mijn|een] {doc} [aanvragen|ophalen|verlengen] [zonder afspraak|op zaterdag|als ik in {stad} woon]?"),
    (True, "vraag", False, "[Hoi|Hallo|Beste] {org}, [ik vroeg me af|weet u] [of|hoe] [ik recht heb op|het zit met] {regeling} [als student|met een bijbaan|na mijn scheiding]?"),
    (True, "vraag", False, "Hoelang duurt het [voordat|tot] [ik bericht krijg|mijn {doc} klaar is|de beslissing komt] [ongeveer|gemiddeld]?"),
    (True, "vraag", False, "Kan ik [mijn afspraak|de afspraak voor mijn {doc}] [verzetten|online wijzigen|afzeggen] [en zo ja hoe|of moet ik bellen]?"),
    (True, "vraag", False, "Ik [snap|begrijp] [de brief|mijn beschikking|de nieuwe regels] niet helemaal, [wat betekent|wat bedoelen jullie met] [voorschot|terugvordering|definitieve berekening]?"),
    (True, "vraag", False, "Is het [loket|stadskantoor] in {stad} [morgen|zaterdag|tijdens de feestdagen] open?"),
    (True, "vraag", False, "Klopt het dat ik [de {regeling}|mijn toeslag] [moet terugbetalen|kwijtraak] als ik [ga samenwonen|meer ga werken]? [Wie kan dit uitleggen|Graag uitleg]"),
    (True, "vraag", False, "how can I apply for {regeling}? [I live in {stad}|my Dutch is not so good] [sorry|thanks]"),
    (True, "vraag", False, "Hoe zit het [eigenlijk |]met [de aflossing|mijn schuld|de betalingsregeling] bij {org}? [Kan ik|Mag ik] [later betalen|in termijnen betalen]?"),
    (True, "vraag", False, "Waar vind ik [het formulier|het nummer|de link] om [mijn {regeling} te wijzigen|een verhuizing door te geven]?"),
    # verzoek
    (True, "verzoek", False, "Kunnen jullie mij [bellen|terugbellen|even bellen]? [Ik kom er niet uit met het formulier|Ik krijg niemand te pakken|Het gaat om mijn {regeling}]."),
    (True, "verzoek", False, "[Graag|Ik wil graag] [een nieuwe|een] [brief|beschikking|pincode] [opgestuurd|toegestuurd], [de vorige is nooit aangekomen|ik ben verhuisd]."),
    (True, "verzoek", False, "Kunt u [mijn adres|mijn rekeningnummer|mijn gegevens] [aanpassen|wijzigen] in [het systeem|mijn dossier]? [Ik ben verhuisd naar de {straat}|Het klopt niet meer]."),
    (True, "verzoek", False, "[Willen|Zouden] jullie [het bedrag|de dubbele betaling] [terugstorten|terugbetalen]? Ik heb [twee keer|per ongeluk dubbel] betaald."),
    (True, "verzoek", False, "[Stuur|Kunnen jullie] mij [een DM|een pb|een mail] [sturen |]over mijn [aanvraag|dossier {nummer}|{regeling}]?"),
    (True, "verzoek", False, "Ik [verzoek|vraag] [u|jullie] [vriendelijk |]om [uitstel van betaling|een betalingsregeling|een gesprek] voor [mijn aanslag|de boete]."),
    (True, "verzoek", False, "Wil iemand van de {org} [ff|even] kijken naar [mijn aanvraag|dossiernummer {nummer}]? [Alvast bedankt|Dank!|Thx]"),
    (True, "verzoek", False, "Please [call me back|send me the form] about my {regeling}, [nobody answers the phone|I need it this week]."),
    (True, "verzoek", False, "Kan er iemand [contact met mij opnemen|mij mailen] over [de terugvordering|mijn bezwaar|de beslissing]? [Liefst vandaag|Ik ben de hele dag thuis]."),
    (True, "verzoek", False, "Ik [wil|zou] [graag |]een afspraak [maken|inplannen] voor [mijn {doc}|een gesprek over mijn schuld], [online lukt het niet|de site geeft een foutmelding]."),
    # klacht
    (True, "klacht", False, "Ik wacht [nu |]al {periode} op [mijn|de] {regeling} en [niemand reageert|ik hoor niks|er gebeurt niets]. [Dit is echt niet ok|Belachelijk|Heel vervelend]."),
    (True, "klacht", False, "[Ik wil een klacht indienen|Hierbij een klacht] over [de medewerker|de behandeling|jullie telefoonlijn]: [ik werd afgesnauwd|ik werd drie keer doorverbonden|niemand nam op]."),
    (True, "klacht", False, "Al {periode} [geen reactie|geen antwoord] op mijn [mail|brief|aanvraag] ({nummer}). [Hoe lang nog?|Wat is hier aan de hand?|Dit kan toch niet]"),
    (True, "klacht", False, "Jullie hebben [mijn {regeling}|mijn uitkering] [stopgezet|verlaagd] zonder [bericht|uitleg] en nu [kan ik de huur niet betalen|zit ik in de problemen]."),
    (True, "klacht", False, "[Voor de derde keer|Weer|Alweer] [een verkeerde|een foute] [brief|aanslag|beschikking] ontvangen. [Kunnen jullie dit oplossen|Regel dit nou eens]?"),
    (True, "klacht", False, "[Anderhalf uur|45 minuten|Een uur] in de wacht gestaan bij {org} en toen [opgehangen|verbinding verbroken]. [Dit is geen service|Hoe moet ik jullie dan bereiken?]"),
    (True, "klacht", False, "Er is [twee keer|dubbel|te veel] afgeschreven van mijn rekening voor [de parkeervergunning|de aanslag|de boete], [dit klopt niet|graag corrigeren]."),
    (True, "klacht", False, "jullie [site|app] [werkt al dagen niet|ligt er weer uit] en ik [moet vandaag|moet voor vrijdag] [mijn aangifte doen|iets aanvragen]. wat nu??"),
    (True, "klacht", False, "I've been waiting {periode} for my {regeling} and nobody [answers|replies]. [This is unacceptable|Please do something]."),
    # bezwaar
    (True, "bezwaar", False, "Ik [maak|teken] bezwaar tegen [de WOZ-waarde van mijn woning|mijn aanslag|het besluit over mijn {regeling}]; [die is veel te hoog|dat klopt niet]."),
    (True, "bezwaar", False, "Ik ben het niet eens met [de beslissing|de beschikking|het besluit] [over mijn {regeling}|op mijn aanvraag] en [ga in bezwaar|wil bezwaar maken]. Hoe doe ik dat?"),
    (True, "bezwaar", False, "[Ik heb|We hebben] [op {stad} |]bezwaar ingediend ({nummer}) [maar nog geen beslissing|en wachten al {periode}]. [Wanneer hoor ik iets?|Wat is de stand van zaken?]"),
    (True, "bezwaar", False, "[Hierbij|Bij deze] maak ik [pro forma |]bezwaar tegen [de boete|de naheffing|de beschikking] [van 12 maart|met kenmerk {nummer}]."),
    (True, "bezwaar", False, "Mijn bezwaar is [afgewezen|ongegrond verklaard] maar [er staan fouten in|ze hebben mijn stukken niet gelezen]. [Kan ik in beroep?|Ik wil in beroep]."),
    (True, "bezwaar", False, "Onterechte [boete|parkeerboete|naheffing]! Ik [had wel betaald|stond er niet], ik [ga hier tegen in bezwaar|wil dat die wordt ingetrokken]."),
    # melding
    (True, "melding", False, "[Er ligt|Ligt] [al dagen |]een [omgevallen boom|berg grofvuil|kapotte {ding}] op de {straat} in {stad}. [Kan iemand dit ophalen?|Graag opruimen.|Wie komt dit regelen?]"),
    (True, "melding", False, "De {ding} op de {straat} is [kapot|stuk|al weken defect], [s avonds is het daar aardedonker|gevaarlijk voor fietsers]."),
    (True, "melding", False, "[Melding|Ik wil melden]: [de containers|de ondergrondse container] bij de {straat} [zijn niet geleegd|zit vol] en [het stinkt|ratten lopen eromheen]."),
    (True, "melding", False, "[Elke nacht|Al weken] [geluidsoverlast|overlast] van [een feestje|scooters|een bedrijf] [aan|op] de {straat}. [Kan de handhaving langskomen?|Wat kunnen jullie doen?]"),
    (True, "melding", False, "[Mijn|De] [DigiD app|inlog op Mijn Toeslagen|aanvraagformulier] geeft [steeds|telkens] een foutmelding [bij stap 3|na het inloggen]. [Storing?|Werkt dit bij jullie?]"),
    (True, "melding", False, "Gat in de weg op de {straat} [t.h.v. nummer 12|bij de rotonde], [al twee fietsers gevallen|graag repareren]."),
    (True, "melding", False, "Riool verstopt [bij ons|in de {straat}], water staat [tot de stoep|in de kelder]. [Wie moet ik bellen?|Graag snel actie.]"),
    (True, "melding", False, "Hier [in {stad} |]wordt [al dagen |]afval gedumpt [achter de school|bij het bos|naast de glasbak]. [Ik heb fotos|Zie foto]."),
    # woo-verzoek
    (True, "woo-verzoek", False, "[Ik dien|Hierbij dien ik] een Woo-verzoek in voor alle [documenten|stukken|e-mails] over {onderwerp} [uit 2025|van de afgelopen twee jaar]."),
    (True, "woo-verzoek", False, "Op grond van de Wet open overheid [verzoek ik|vraag ik] om openbaarmaking van [de notulen|het advies|de interne stukken] over {onderwerp}."),
    (True, "woo-verzoek", False, "[Wanneer|Hoe lang nog] [wordt|duurt] mijn [Wob-verzoek|Woo-verzoek] [behandeld|afgehandeld]? Ingediend [in maart|{periode} geleden], [kenmerk {nummer}|nog niks gehoord]."),
    (True, "woo-verzoek", False, "Ik wil [inzage in|alle correspondentie over] {onderwerp} [tussen gemeente en provincie|met de projectontwikkelaar]. [Woo-verzoek volgt|Dit is een formeel Woo-verzoek]."),
    (True, "woo-verzoek", False, "[Graag|Verzoek om] openbaarmaking van [de rapporten|de onderzoeken|de contracten] [die ten grondslag liggen aan|over] {onderwerp} #woo"),
    # urgent positives
    (True, "melding", True, "[Er hangt|Hier hangt] een stroomkabel [over de stoep|laag boven de weg] op de {straat}, [levensgevaarlijk|kinderen spelen hier]! [Graag NU iemand sturen|Wie kan komen?]"),
    (True, "melding", True, "Ik ruik [een sterke gaslucht|gas] [in ons portiek|op de {straat}], [wat moet ik doen?|kunnen jullie iemand sturen?]"),
    (True, "melding", True, "[Brand|Rookontwikkeling] [bij de flat|in een schuur] aan de {straat}, [is de brandweer al onderweg?|moeten we ramen dicht houden?]"),
    (True, "melding", True, "Mijn [uitkering|toeslag] is gestopt en [ik trek het niet meer|ik zie het niet meer zitten], [ik wil er een eind aan maken|het hoeft voor mij niet meer]. [Help me alsjeblieft|Wie kan me helpen]"),
    (True, "vraag", True, "[Er is een kind|Een man is] [te water geraakt|in het kanaal gevallen] bij de {straat}, [wie moet ik bellen|is 112 al onderweg]?"),
]

NEGATIVE = [
    # opinion / anger (also at politics)
    (False, None, False, "[Wat een onzin|Onzin|Wat een flauwekul] [weer|dit]. [Eerst zien dan geloven|Geloof er niks van] {emoji_neg}"),
    (False, None, False, "{politicus} [kan echt niks|moet aftreden|heeft er geen idee van]. [Schande|Wegwezen|Dit land gaat kapot] {emoji_neg}{emoji_neg}"),
    (False, None, False, "[Ons belastinggeld|Ons geld] gaat [weer|alleen maar] naar {onderwerp}. [Schandalig|Graaiers|Zakkenvullers]."),
    (False, None, False, "[Dit kabinet|Deze regering|De gemeente] [luistert nooit naar burgers|doet maar wat|denkt alleen aan zichzelf]."),
    (False, None, False, "[Volgende keer|Bij de verkiezingen] [stem ik anders|krijgen ze de rekening|weet ik wat ik stem]. #[aftreden|stemmen|politiek]"),
    (False, None, False, "[Niet normaal|Ongelofelijk] hoe [dit land|Nederland|onze stad] [wordt bestuurd|naar de knoppen gaat]. {emoji_neg}"),
    (False, None, False, "[Weer|Alweer] [een|zo'n] [peperduur|nutteloos] [plan|project] [waar niemand om gevraagd heeft|van de bovenste plank]."),
    (False, None, False, "[Ik ben tegen|Ik vind] {onderwerp} [een slecht idee|echt waanzin|niet nodig]. [Punt.|Klaar.|Zo.]"),
    (False, None, False, "De [toeslagenaffaire|bonnetjesaffaire|stikstofcrisis] [is nog steeds niet opgelost|bewijst het maar weer]. [Typisch|Schaamteloos]."),
    (False, None, False, "[Mensen die op {politicus} stemmen|Die politici] [verdienen dit|hebben het zelf gezocht]."),
    (False, None, False, "[Allemaal|Alles] [leugens|praatjes] van {politicus} [weer|zoals altijd]"),
    # rhetorical questions
    (False, None, False, "[En wie gaat dat betalen?|Wie betaalt dat?|Wie betaalt de rekening?] [Wij natuurlijk|De burger uiteraard|Juist, wij] {emoji_neg}"),
    (False, None, False, "Hoe verzin je het? [{onderwerp}, nu?|Echt weer typisch {org}]"),
    (False, None, False, "[Waarom|Hoezo] duurt alles in dit land [toch |]zo lang? [Ongelofelijk|Zucht] {emoji_neg}"),
    (False, None, False, "[Serieus?|Echt?|Meen je dat?] [Is het 1 april?|Is dit een grap?] {emoji_neg}"),
    (False, None, False, "[Wanneer leren jullie het nou eens?|Hoe vaak moet dit nog gebeuren?] [Elke keer hetzelfde|Altijd hetzelfde liedje]."),
    (False, None, False, "[Wie bedenkt dit|Wie verzint dit] [toch|nou]? {emoji_neg}"),
    (False, None, False, "[Verbaast|Verrast] het iemand [nog|eigenlijk] dat {politicus} [dit doet|weer faalt]? Mij niet."),
    (False, None, False, "Kunnen jullie [nou nooit eens|nu nooit eens] iets goed doen? [Lachwekkend|Amateurs] {emoji_neg}"),
    (False, None, False, "Is dit nou [echt|werkelijk] het beste wat [jullie|{politicus}] kunnen [bedenken|verzinnen]?"),
    # jokes / laughter / emoji only
    (False, None, False, "[haha|hahaha|lol] [deze is goed|goeie|geweldig] {emoji_neg}"),
    (False, None, False, "{emoji_neg}{emoji_neg}{emoji_neg}"),
    (False, None, False, "{emoji_pos}"),
    (False, None, False, "[Zet het maar op mijn rekening|Ik neem er twee|Doe mij maar een patatje] [haha|😂|lol]"),
    (False, None, False, "[Mooie foto|Leuke video|Wat een plaatje] {emoji_pos}"),
    (False, None, False, "[Die {ding}|De {straat}] [is volgens mij het meest gefotografeerde ding van {stad}|verdient een eigen account] 😂"),
    (False, None, False, "[En ik maar denken|Ik dacht al] dat [het|dit] [een grap was|1 april was] 🤣"),
    # praise / thanks
    (False, None, False, "[Top|Super|Mooi], [dank voor de info|bedankt voor het delen|goed om te weten]! {emoji_pos}"),
    (False, None, False, "[Goed nieuws|Eindelijk], [hier hebben we lang op gewacht|goed bezig] {emoji_pos}"),
    (False, None, False, "[Dankjewel|Bedankt|Dank] [voor de snelle hulp|voor het oplossen|voor jullie uitleg gisteren], [alles is geregeld|werkt weer]. {emoji_pos}"),
    (False, None, False, "[Complimenten|Chapeau|Respect] voor [de medewerkers|de brandweer|jullie team] [in {stad}|vannacht]! {emoji_pos}"),
    (False, None, False, "[Mooi initiatief|Goed plan|Prima idee], [succes ermee|hopelijk werkt het]."),
    (False, None, False, "[Fijn dat jullie|Goed dat jullie] [dit delen|hier aandacht aan besteden]. {emoji_pos}"),
    # citizens among themselves
    (False, None, False, "@[sanne|kees_83|mo_utrecht|ingrid|daantje] [zag je dit?|dit is toch jouw straat?|lees dit even] [Gaan we dat doen?|haha|😂]"),
    (False, None, False, "@[henk|lotte22|youssef] [precies|inderdaad|helemaal mee eens], [zo is het|dat zeg ik al jaren]."),
    (False, None, False, "@[priya|wim_b|noortje] [nee joh|welnee|onzin], [dat klopt niet|je snapt het niet]. [Lees eerst even|Zoek het eerst op]."),
    (False, None, False, "Weet iemand [hier |]of [de markt|het zwembad|de bieb] [morgen|zaterdag] open is? [Vraag voor een vriend|Thx]"),
    (False, None, False, "Heeft iemand [ervaring met|al eens] [die nieuwe regeling|zo'n aanvraag]? [Benieuwd|Ben benieuwd hoe het ging]"),
    (False, None, False, "@[bram|mila_x|thijs] [jij|jullie] [moet|moeten] [dit lezen|hier ook op letten] met [jouw|jullie] [huurtoeslag|toeslag|studie]!"),
    (False, None, False, "[Ik heb|Wij hebben] [het|die toeslag|die regeling] [vorig jaar|ook] [aangevraagd|gehad], [ging prima|duurde 6 weken], [succes @esra|@sven succes ermee]"),
    (False, None, False, "[Mijn buurman|Mijn moeder|Mijn zus] [zegt|vindt] [ook |]dat [het niks wordt|het te duur is|ze het verkeerd doen]."),
    (False, None, False, "[Volgens mij|Ik denk] [heb je recht op|valt jij ook onder|kun je gewoon] [die toeslag|die regeling|bellen], @[anouk|pieter] [toch?|check het even]"),
    # personal but no ask (venting, not a request) - general negatives
    (False, None, False, "[Mijn|Onze] {regeling} gaat [zeker ook|vast] weer omlaag [zeker|dan]. [Lekker dan|Top hoor] {emoji_neg}"),
    (False, None, False, "[Ik|Wij] [betaal|betalen] [me|ons] [blauw|scheel] aan belasting en [dit|daar] [krijgen we voor terug|is het resultaat]. {emoji_neg}"),
    (False, None, False, "Wat was het [vroeger|toen] [toch |]beter [in {stad}|hier]. [Jammer|Zonde]."),
    # spam / off-topic
    (False, None, False, "[Verdien|Verdien nu] [€500 per dag|snel geld] [vanuit huis|met crypto]! [Link in bio|DM voor info] 💰💰"),
    (False, None, False, "[Volg mij|Check mijn kanaal|Kijk op mijn profiel] [voor meer|voor de waarheid] #[wakkerworden|waarheid|crypto]"),
    (False, None, False, "[Eerste!|First|Eerste reactie] {emoji_pos}"),
    (False, None, False, "#[{org}|stikstof|woningnood|toeslagen] #[schande|politiek|nl] #[stemmen|aftreden]"),
    # urgent but not a burgerbrief: threats
    (False, None, True, "[Als dit doorgaat|Als ze dit doorzetten] [steek ik het gemeentehuis in de fik|kom ik langs met een mes|gaan jullie eraan]."),
    (False, None, True, "{politicus} [moet je gewoon neerschieten|moeten ze ophangen|moet je afmaken]. {emoji_neg}"),
    (False, None, True, "[Ik weet waar de wethouder woont|We weten waar jullie wonen], [wacht maar af|pas maar op]."),
    (False, None, True, "[Gooi er een bom op|Blaas die hele toko op], [dan is het klaar|probleem opgelost]. {emoji_neg}"),
]

# Round 2 (after the first dev evaluation; see README "How it was made"): more kinds of hard
# negatives and more ways to ask, object and threaten. Written from the error *types* seen, not
# from dev sentences.
POSITIVE += [
    (True, "verzoek", False, "Mag ik [de stukken|mijn inkomensverklaring|het bewijs] [later|volgende week|na de vakantie] [inleveren|nasturen]? [Ik ben nu in het buitenland|Mijn accountant is ziek]."),
    (True, "verzoek", False, "[Zorg|Zorgen jullie] [er even voor|ervoor] dat [mijn {regeling}|de betaling] [weer loopt|deze maand wel komt], [ik heb het echt nodig|anders kan ik de huur niet betalen]."),
    (True, "verzoek", False, "[Ik vraag|Ik zou willen vragen] [u|jullie] [om|of] [mijn naam|de tenaamstelling|mijn geboortedatum] in [het register|de BRP|mijn dossier] te [corrigeren|verbeteren]. [Er staat een fout in|Die is verkeerd gespeld]."),
    (True, "verzoek", False, "Hey {org}, [kunnen jullie|kan iemand] [ff|even] [checken|kijken] [waarom|of] [mijn {regeling}|mijn betaling] [niet is overgemaakt|is blijven hangen]? [Thx|Dank je]"),
    (True, "verzoek", False, "[I need|I would like] [a new|a copy of my] [letter|decision|tax form] [sent to my new address|by email], [can you arrange that|please]?"),
    (True, "verzoek", False, "[Kunt u|Kunnen jullie] [handhaving|een boa|de wijkagent] [langs laten komen|sturen] [bij|naar] de {straat}? [Elke avond|Elk weekend] [overlast|rommel|lawaai]."),
    (True, "bezwaar", False, "[I want to|I'd like to] [object to|appeal against] [the fine|the tax assessment|my {regeling} decision]. [How do I start|What do I need to send]?"),
    (True, "bezwaar", False, "[De beslissing|Het besluit] over [mijn {regeling}|de vergunning van de buren] [moet|wil ik laten] [herzien|heroverwegen]: [er is geen rekening gehouden met|jullie vergeten] [mijn medische situatie|de feiten]."),
    (True, "bezwaar", False, "[Die|Deze] [aanslag|beschikking|boete] [accepteer ik niet|ga ik aanvechten], [mijn inkomen was veel lager|ik was toen niet eens in het land]."),
    (True, "bezwaar", False, "[Ik ga|Wij gaan] [in bezwaar|in beroep] [tegen|over] [de kap van de bomen|de bouwvergunning|het bestemmingsplan] [aan|op] de {straat}. [Tot wanneer kan dat?|Waar stuur ik het heen?]"),
    (True, "klacht", False, "[Weer|Wéér] [een brief|een aanmaning] [met|over] [een bedrag dat ik al betaald heb|een verkeerde naam]. [Hoe vaak moet ik dit nog doorgeven?|Wanneer passen jullie dit aan?]"),
    (True, "klacht", False, "[Ik word|Ik werd] [steeds|telkens] [doorgestuurd|doorverwezen] [naar een andere afdeling|naar de website] [en niemand helpt me|zonder antwoord] met [mijn {regeling}|mijn aanvraag]."),
    (True, "klacht", False, "[De|Jullie] [medewerker|boa|handhaver] [was|deed] [onbeleefd|agressief|neerbuigend] [tegen mij|tegen mijn moeder] [bij het loket|op straat]. [Ik wil dat dit wordt uitgezocht|Ik dien hierbij een klacht in]."),
    (True, "klacht", False, "[Amai|Allez], [al|nu al] {periode} [wacht ik|zit ik te wachten] op [mijn {regeling}|een antwoord] [van|bij] {org}. [Da kan toch nie|Doe er iets aan]"),
    (True, "vraag", False, "[Ik heb|We hebben] [een brief|een mail|een sms] [gehad|gekregen] [over|met] [een terugvordering|een nieuw bedrag|een aanmaning], [klopt dat wel|is dat echt van jullie|wat moet ik nu doen]?"),
    (True, "vraag", False, "[Kunt gij|Kunt ge|Weet ge] [mij zeggen|eens laten weten] [of|wanneer] [mijn {regeling}|het groeipakket|mijn premie] [gestort wordt|binnen is]?"),
    (True, "vraag", False, "[Does|Do] [the {regeling}|this rule] [also apply|apply] to [people on a visa|part-time workers|students]? [Thanks|Thx in advance]"),
    (True, "melding", False, "[Het|De] [afvoerputje|kolk|stoep] [voor|bij] [nummer 23|de bakker] aan de {straat} [is ingezakt|loopt over|ligt open], [graag iemand sturen|wil iemand kijken]?"),
    (True, "melding", False, "[Dood|Aangereden] [dier|hert|vos] [ligt|op de weg] [bij|langs] de {straat}. [Kan dat worden opgehaald?|Wie moet ik bellen?]"),
    (True, "melding", False, "[Jullie|De] [site|app|pagina] [toont|geeft] [een foutcode|error 404|alleen een wit scherm] [bij|als ik] [inloggen|betalen|het formulier verstuur]. [Kunnen jullie dit fixen?|Ligt het aan mij?]"),
    (True, "melding", True, "[Er ligt iemand|Er ligt een vrouw|Een fietser ligt] [bewusteloos|gewond] [op|bij] de {straat}, [weet iemand of er hulp komt|wat moet ik doen]?"),
    (True, "melding", True, "[Rookmelder|CO-melder|Koolmonoxidemelder] [piept|gaat af] [bij de buren|in het trappenhuis] en [niemand doet open|het ruikt raar]. [Moet ik 112 bellen?|Help!]"),
    (True, "melding", True, "[Ik zie het niet meer zitten|Ik trek het niet meer] [met al die schulden|sinds mijn uitkering stopte] en [denk aan zelfmoord|wil mezelf iets aandoen]. [Kan iemand me bellen?|Help]"),
    (True, "melding", True, "[Het water|Het hoogwater] [staat al|komt] [tot aan de dijk|over de kade] bij de {straat}, [moeten we evacueren|wie komt er zandzakken brengen]?"),
]
NEGATIVE += [
    # resolved / past experience, no ask
    (False, None, False, "[Bij mij|Bij ons] [is het|kwam het] [uiteindelijk|na een paar weken] [goed gekomen|opgelost] [met|na] [mijn {regeling}|het bezwaar|de aanvraag], [dus hou vol|geduld hebben]."),
    (False, None, False, "[Ik heb|Wij hebben] [ooit|jaren geleden|vorig jaar] [ook|eens] [bezwaar gemaakt|een klacht ingediend|gebeld] [over|om] [de WOZ|een boete|mijn toeslag], [ging prima|nooit meer wat gehoord, maar ach]."),
    (False, None, False, "[Mijn {regeling}|Mijn aanvraag|Mijn {doc}] is [gisteren|vorige week|net] [binnengekomen|goedgekeurd|geregeld]. [Dank|Top]! {emoji_pos}"),
    # informing others
    (False, None, False, "[Voor wie het zoekt|Tip|Ter info]: [het formulier|de aanvraag|de info] [staat|vind je] op [de website|mijn.{org}.nl|de site van de gemeente] onder '[aanvragen|formulieren|toeslagen]'."),
    (False, None, False, "[Je kunt|Je kan|Ge kunt] [gewoon|ook] [bellen|online een afspraak maken|langsgaan], [dat werkte bij mij|zo heb ik het ook gedaan]. @[anouk|kees|fien] [succes|good luck]"),
    (False, None, False, "[Let op|Pas op], [deze|die] [mail|sms|brief] is [nep|phishing], {org} [vraagt nooit|zal nooit vragen] om [je pincode|je wachtwoord]!"),
    # venting about the letter/system, no ask
    (False, None, False, "[Weer|Alweer] [een|zo'n] [blauwe envelop|aanmaning|brief van {org}] [op de mat|in de bus]. [Leuk begin van de dag|Daar gaat mijn vakantiegeld] {emoji_neg}"),
    (False, None, False, "[Tja|Nou ja], [zo gaat dat|zo werkt het] [bij|met] {org}. [Je went er aan|Niks aan te doen]."),
    # sarcastic / rhetorical to the org
    (False, None, False, "[Goh|Zo], [hebben jullie|heeft {org}] [dat helemaal zelf bedacht|daar lang over gedaan]? {emoji_neg}"),
    (False, None, False, "[Heeft|Hebben] [iemand|jullie] [hier|daar] [ooit|eigenlijk] [zelf|eens] [mee gewerkt|in gewoond|gebruik van gemaakt]? [Vast niet|Dacht het niet]."),
    (False, None, False, "[Waar|Wanneer] [halen|leren] [jullie|ze] [het|dat] [vandaan|ooit]? [Serieus|Ongelofelijk] {emoji_neg}"),
    # spam / promo
    (False, None, False, "[Snel|Makkelijk|Gratis] [rijk worden|geld verdienen|volgers krijgen]? [Stuur me een DM|DM me|Klik hier] [voor de link|nu] {emoji_pos}💰"),
    (False, None, False, "[Bekijk|Check] [mijn|onze] [nieuwe video|webshop|podcast] [over dit onderwerp|met korting]! [Link in bio|Zie profiel]"),
    # threats (urgent) with other words
    (False, None, True, "[Die|Deze] [wethouder|ambtenaar|minister] [verdient|krijgt] [een kogel|klappen|een pak slaag] [als ik hem zie|binnenkort]. {emoji_neg}"),
    (False, None, True, "[Als ik|Als wij] [die boa|die handhaver|die ambtenaar] [zie|tegenkomen] [dan|dan gaat] [sla ik hem in elkaar|hij eraan|is het afgelopen]."),
    (False, None, True, "[Er komt|Binnenkort] [een verrassing|iets moois] [bij|voor] [het gemeentehuis|het kantoor van {org}] 💣 [Wacht maar af|Boem]"),
]
