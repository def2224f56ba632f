"""Templates for the DEV split, written separately from templates_train.py: other sentence
structures, other slot words (other organisations, schemes and places), more Flemish and chat
style. No template here is a paraphrase of a train template; the dev set is for honest scores.
Syntax as in templates_train.py.
"""

SLOTS = {
    "regeling": ["kindgebonden budget", "bijzondere bijstand", "huurtoelage", "Wajong", "studiefinanciering",
                 "zorgpremie-compensatie", "groeipakket", "leefloon", "kwijtschelding", "IOAW", "WIA-uitkering",
                 "reiskostenvergoeding", "studietoelage"],
    "doc": ["identiteitskaart", "VOG", "gehandicaptenparkeerkaart", "rijbewijs", "geboorteakte", "kentekenbewijs"],
    "periode": ["vijf weken", "bijna 3 maanden", "sinds de zomer", "al 8 weken", "twee maand", "een eeuwigheid",
                "sinds 14 januari", "ruim 40 dagen"],
    "straat": ["Lindelaan", "Veldstraat", "Kastanjeplein", "Dijkweg", "Sint-Jansstraat", "Brouwersgracht",
               "Vondelstraat", "Koningin Wilhelminalaan", "Grote Markt"],
    "stad": ["Gent", "Antwerpen", "Nijmegen", "Maastricht", "Den Bosch", "Apeldoorn", "Delft", "Heerlen", "Amersfoort"],
    "ding": ["speeltoestel", "glasbak", "brugleuning", "afvalbak", "stoplicht", "hekwerk", "waterpomp"],
    "onderwerp": ["het nieuwe busplan", "de verkoop van het stadhuis", "de herinrichting van het plein",
                  "de subsidie aan de voetbalclub", "het datalek bij de gemeente", "de opvang in de sporthal"],
    "nummer": ["UWV-339120", "2026-K-0417", "nr. 77341", "ref 5590-B", "dossier 44178"],
    "org": ["gemeente", "UWV", "DUO", "Vlaamse overheid", "stad Gent", "CAK", "Belastingdienst", "provincie"],
    "emoji_neg": ["😒", "🤬", "😑", "🤣", "😬", "👎", "🫠"],
    "emoji_pos": ["🙏", "👌", "🥳", "💯", "😍"],
    "politicus": ["de schepen", "de gedeputeerde", "de staatssecretaris", "de Kamer", "het college", "de fractie"],
}

POSITIVE = [
    # vraag
    (True, "vraag", False, "[Heb ik|Hebben wij] als [student|uitzendkracht|mantelzorger] ook recht op {regeling}, of [valt dat af|telt mijn inkomen mee]?"),
    (True, "vraag", False, "Tot wanneer [mag|kan] ik [nog |]{regeling} [aanvragen|aanvraag doen] voor [vorig jaar|2025]?"),
    (True, "vraag", False, "[Hallo|Dag], ik [verhuis|ga verhuizen] [volgende maand |]naar {stad}. Moet ik mijn {regeling} dan opnieuw aanvragen?"),
    (True, "vraag", False, "Welk [nummer|mailadres] moet ik [gebruiken|bellen] voor vragen over [de {regeling}|mijn {doc}]? Op de site [staat het niet|vind ik niks]."),
    (True, "vraag", False, "[Goeiemorgen|Goeiedag], kan ge mij zeggen [waar|wanneer] ik mijn {doc} [kan afhalen|mag komen halen]?"),
    (True, "vraag", False, "Geldt [die nieuwe regel|deze wijziging] ook voor mensen die [al een {regeling} hebben|in {stad} wonen]? [Thanks!|Alvast dank]"),
    (True, "vraag", False, "quick question: is the {regeling} also for [expats|international students]? [where do I find info in English|thx]"),
    (True, "vraag", False, "ik heb [een brief|een blauwe envelop] gekregen [met een bedrag|over terugbetalen] maar [snap er niks van|wat moet ik hiermee]??"),
    (True, "vraag", False, "[Hoeveel|Wat] [kost|kosten] [een nieuwe|het aanvragen van een] {doc} [tegenwoordig|bij jullie] en [moet ik een afspraak maken|kan ik pinnen]?"),
    (True, "vraag", False, "[Zijn|Worden] de {regeling}-bedragen voor [2026|volgend jaar] al bekend? [Ik moet mijn budget plannen|Wanneer weet ik wat ik krijg]"),
    # verzoek
    (True, "verzoek", False, "[Zou|Kan] er iemand [mijn dossier|{nummer}] [willen bekijken|eens willen nakijken]? [Volgens mij is er iets misgegaan|Er staat een verkeerd bedrag]."),
    (True, "verzoek", False, "[Ik had graag|Ik zou graag] een [kopie|afschrift] van [mijn beschikking|de beslissing over mijn {regeling}] ontvangen, [liefst per mail|op mijn nieuwe adres]."),
    (True, "verzoek", False, "[Gelieve|Graag] [mij te contacteren|mij terug te bellen] [ivm|over] [mijn {regeling}|de openstaande factuur], ik ben bereikbaar [na 17u|overdag]."),
    (True, "verzoek", False, "Mag ik [uitstel|een week extra] [voor het aanleveren van|om in te sturen] [de papieren|mijn loonstroken]? [Ik lig in het ziekenhuis|Mijn werkgever is traag]."),
    (True, "verzoek", False, "[Kunnen jullie|Kan de {org}] [zorgen dat|regelen dat] [de {regeling}|mijn betaling] weer [op mijn rekening komt|wordt overgemaakt]? pls {emoji_pos}"),
    (True, "verzoek", False, "[Stuur|Mail] [aub|a.u.b.] [het formulier|de link] [naar mij|even door], [ik kan het nergens vinden|de site geeft een 404]"),
    (True, "verzoek", False, "could someone [look into|check] my [case|file] {nummer}? [the amount is wrong|I got two different letters]"),
    # klacht
    (True, "klacht", False, "[Sinds|Al] {periode} [stuur ik mails|bel ik] naar {org} [zonder antwoord|en elke keer een ander verhaal]. [Zo ga je niet met mensen om|Dit is toch geen manier]."),
    (True, "klacht", False, "Mijn {regeling} [werd|is] [zonder uitleg|plots] [teruggevorderd|ingehouden], [nu sta ik rood|ik heb drie kinderen]. [Dit moet rechtgezet worden|Ik eis uitleg]."),
    (True, "klacht", False, "De medewerker aan [het loket|de telefoon] [was ronduit onbeschoft|lachte me uit|weigerde me te helpen]. [Ik wil dat hier iets mee gebeurt|Hier wil ik over klagen]."),
    (True, "klacht", False, "[Al de derde brief|Weer een brief] met [een fout bedrag|de verkeerde naam|een oud adres]. [Hoe moeilijk kan het zijn?|Pas dit nu eens aan] {emoji_neg}"),
    (True, "klacht", False, "[Jullie|De {org}] [hebben|heeft] mijn [formulier|papieren] [kwijtgemaakt|nooit verwerkt] en nu [krijg ik een boete|moet ik alles opnieuw]. [Onacceptabel|Kafka]."),
    (True, "klacht", False, "[Ik word|We worden] [al maanden |]van het kastje naar de muur gestuurd over [de {regeling}|mijn aanvraag]. [Wie is nu verantwoordelijk?|Wanneer wordt dit opgelost?]"),
    (True, "klacht", False, "amai, al {periode} wachten op [mijn {regeling}|antwoord] en [geen kat die reageert|niemand die iets weet]. [Allez, doe iets|Dit is toch nie normaal]"),
    # bezwaar
    (True, "bezwaar", False, "[Tegen|Over] [de aanslag afvalstoffenheffing|de WOZ-beschikking|de beslissing op mijn {regeling}] wil ik [formeel |]bezwaar aantekenen. [Wat moet ik opsturen?|Mijn gegevens volgen per DM.]"),
    (True, "bezwaar", False, "Ik ga [hier |]niet mee akkoord: [de boete|de terugvordering|de weigering van mijn {regeling}] is [onterecht|onjuist berekend]. [Ik teken beroep aan|Ik vecht dit aan]."),
    (True, "bezwaar", False, "[Mijn|Ons] bezwaarschrift ({nummer}) [ligt al|is] {periode} [bij jullie|in behandeling]. [Termijn is allang verlopen|Wanneer komt de hoorzitting?]"),
    (True, "bezwaar", False, "[De taxatie|De waardering] van ons huis [klopt echt niet|is absurd hoog], [ik wil dat die herzien wordt|graag heroverweging]. [Vergelijkbare huizen zijn veel lager getaxeerd|Zie de buren]."),
    (True, "bezwaar", False, "I [want to|would like to] [object to|appeal] the [decision|fine] about my {regeling}, [how do I do that|what is the deadline]?"),
    # melding
    (True, "melding", False, "[Aan|Op] de {straat} [staat|hangt] [een|het] {ding} [scheef|los|op instorten] [sinds het stormde|al een tijd], [kan dat gefixt worden?|iemand van de dienst langssturen?]"),
    (True, "melding", False, "[Beste|Hey] {org}, [de|het] {ding} [bij|in] [het park|de speeltuin] [is vernield|is stuk], [kinderen kunnen zich bezeren|er steken spijkers uit]."),
    (True, "melding", False, "[Straatverlichting|Alle lantaarns] in de {straat} [uit|doen het niet] [sinds dinsdag|al een week]. [Onveilig gevoel 's avonds|Graag even naar kijken]."),
    (True, "melding", False, "[Wateroverlast|Een lekkende waterleiding] [in|op] de {straat} [na de regen|bij de kruising]; [kelders lopen vol|de weg is ondergelopen]. [Wie komt dit bekijken?|Svp actie]"),
    (True, "melding", False, "[Dode|Aangereden] [ree|kat|zwaan] [op de|langs de] {straat}, [wie ruimt dat op?|kan die weggehaald worden?]"),
    (True, "melding", False, "[De website|Het portaal] [geeft|toont] [bij het indienen|na inloggen] [error 500|een wit scherm] [sinds gisteren|al de hele dag], [ik kan mijn {regeling} niet aanvragen|deadline is morgen]."),
    (True, "melding", False, "[Parkeerautomaat|De betaalpaal] [bij|op] de {straat} [slikt munten|accepteert geen pin] en [nu krijg ik een bon|iedereen krijgt boetes]. [Graag oplossen|Check dit svp]"),
    # woo-verzoek
    (True, "woo-verzoek", False, "[Hierbij vraag ik|Ik vraag] [op basis van de Woo|onder de Wet open overheid] [alle|de] [verslagen|memo's|afspraken] over {onderwerp} op."),
    (True, "woo-verzoek", False, "[Wanneer|Waarom] [krijg ik|nog geen] [de stukken|antwoord] op mijn Woo-verzoek over {onderwerp}? [De wettelijke termijn is voorbij|Het is al {periode}]."),
    (True, "woo-verzoek", False, "[Ik wil|Graag] [alle mailwisseling|de correspondentie] tussen [de wethouder|het college] en [de projectontwikkelaar|de club] over {onderwerp} [openbaar gemaakt zien|inzien]. Beschouw dit als Woo-verzoek."),
    (True, "woo-verzoek", False, "Verzoek tot openbaarmaking: [de kosten|het budget|de offerte] van {onderwerp}. [Graag digitaal|Per mail aan mij]."),
    # urgent positives
    (True, "melding", True, "[Op|Aan] de {straat} [ligt een man op de grond|is een fietser aangereden] en [hij beweegt niet|ik zie bloed], [wat moet ik doen|wie moet ik bellen]??"),
    (True, "melding", True, "[Koolmonoxidemelder|CO-melder] gaat af [in onze huurwoning|bij de buren] en [de verhuurder reageert niet|we voelen ons duizelig]. Wat nu?"),
    (True, "melding", True, "[Ik kan niet meer|Ik kan echt niet meer], [de schulden|de brieven] [stapelen zich op|houden niet op] en [ik denk erover mezelf iets aan te doen|ik zie geen uitweg]. [Wie helpt me?|Kan iemand mij bellen?]"),
    (True, "klacht", True, "[Brandlucht|Rook] uit [de meterkast|het trappenhuis] [van de flat|op nummer 4] aan de {straat} en [de woningbouw neemt niet op|niemand doet iets]. [Help!|Wat moeten we doen?]"),
]

NEGATIVE = [
    # opinion / political anger
    (False, None, False, "[Dat|Dit] {politicus} [nog durft|het lef heeft] [om dit te posten|te lachen op die foto]. [Ongelooflijk|Schaam je] {emoji_neg}"),
    (False, None, False, "[Belastinggeld|Onze centen] [over de balk|door het raam] [gooien|smijten], daar [zijn ze goed in|blinken ze in uit]."),
    (False, None, False, "[Zo'n|Dit soort] [beleid|plannen] [zorgt|zorgen] [ervoor|voor] dat [niemand de overheid nog vertrouwt|mensen afhaken]."),
    (False, None, False, "[Weg met|Stop met] {onderwerp}! #[nee|protest|onzin]"),
    (False, None, False, "[De|Die] [hele|ganse] [klimaatzooi|asielpolitiek|EU-regelgeving] [kost ons handenvol geld|is een ramp]. [Wakker worden mensen|Doe er iets aan Brussel]"),
    (False, None, False, "[In|Bij] {stad} [doen ze het veel beter|hebben ze het wel goed geregeld]. [Neem een voorbeeld|Leer er iets van]."),
    (False, None, False, "[Het|Dit] [college|bestuur] [heeft|had] [dit al jaren geleden moeten doen|geen enkele visie]. [Te laat|Jammer maar helaas]."),
    (False, None, False, "[Ik vertrouw|Wij vertrouwen] [hier |]{politicus} [voor geen meter|niet meer]. {emoji_neg}"),
    (False, None, False, "[Nee|Neen], [dit gaat 'm niet worden|dit wordt een flop]. [Let op mijn woorden|Onthoud deze post]."),
    # rhetorical
    (False, None, False, "[En|Maar] [de burger dan?|de gewone man dan?] [Daar denkt niemand aan|Die mag het weer ophoesten]."),
    (False, None, False, "[Hoe haal je het in je hoofd?|Wat bezielt jullie?] {emoji_neg}"),
    (False, None, False, "[Waar blijft|Waar is] [het gezond verstand|de logica] [eigenlijk|toch]? [Nergens|Kwijt]."),
    (False, None, False, "[Wie heeft hier|Wie gaat hier] [nu weer over nagedacht|eigenlijk beter van worden]? [Niemand|Precies]."),
    (False, None, False, "[Had iemand iets anders verwacht?|Wie had dat nou gedacht?] {emoji_neg}"),
    (False, None, False, "[Moet dit echt|Is dit nu echt] [zo|nodig], {politicus}? [Kom op zeg|Allez]."),
    (False, None, False, "[Heeft er ooit|Heeft er eigenlijk] iemand [bij jullie |]in een [rolstoel|bus] gezeten? [Dacht het niet|Nee dus]."),
    # jokes / emoji
    (False, None, False, "{emoji_neg}"),
    (False, None, False, "{emoji_pos}{emoji_pos}"),
    (False, None, False, "[Mijn kat|Mijn hond] [is het er helemaal mee eens|heeft ook gestemd] 🤣"),
    (False, None, False, "[Die foto|Dat filmpje] [zegt genoeg|spreekt boekdelen] [xD|🤣|hihi]"),
    (False, None, False, "[Ik lees|Las eerst] '[{onderwerp}|stikstof]' als '[pizza|vakantie]' [haha|lmao]"),
    # praise / thanks
    (False, None, False, "[Heel fijn|Netjes|Keurig] [geregeld|gedaan], [dank jullie|merci] {emoji_pos}"),
    (False, None, False, "[Merci|Dank u wel] [voor de heldere uitleg|voor de update], [nu snap ik het|duidelijk]! {emoji_pos}"),
    (False, None, False, "[Wat een|Zo'n] [mooi|sterk] [resultaat|project] [voor {stad}|voor de wijk]. [Trots!|Ga zo door]"),
    (False, None, False, "[Mijn melding|Mijn vraag] van [vorige week|gisteren] is [al opgelost|netjes beantwoord]. [Top service|Dank]! {emoji_pos}"),
    # among citizens
    (False, None, False, "@[jeroen|fien_gent|marieke] [kijk|zie] [eens|nu] wat [ze|ze hier] [weer doen|bedacht hebben] 🤣"),
    (False, None, False, "@[tim|lies] [klopt|precies], [had ik je toch gezegd|zei ik vorige week al]"),
    (False, None, False, "@[bart|sofie] [ge moet|je moet] [dat formulier|die toeslag] gewoon [online invullen|aanvragen], [duurt 5 min|is simpel]"),
    (False, None, False, "[Iemand|Wie] [hier |][ook|nog] [in de wachtrij|zonder uitbetaling] [deze maand|vandaag]? [Zijn we met meer|Benieuwd]"),
    (False, None, False, "@[koen|emma] [jij woont daar toch?|is dit bij jou om de hoek?] [Weet jij meer?|Vertel!]"),
    (False, None, False, "[Mijn schoonvader|Mijn collega] [heeft|had] [precies hetzelfde|ook zoiets] [meegemaakt|gehad], [uiteindelijk kwam het goed|na een maand opgelost]."),
    (False, None, False, "[Mensen|Jongens], [trap hier niet in|pas op], [het is phishing|die sms is nep]! [Deel dit|Waarschuw je ouders]"),
    # venting, no ask
    (False, None, False, "[Weer|Alweer] [een brief|een aanslag] [van de {org}|in de bus]. [Leuk|Gezellig hoor] {emoji_neg}"),
    (False, None, False, "[Gelukkig|Blij] [heb ik|hebben wij] [geen|nooit] [toeslag|uitkering] [nodig|gehad], [wat een gedoe|wat een ellende] [zeg|joh]."),
    (False, None, False, "[Zo gaat het|Zo ging het] [bij mij|bij ons] [ook altijd|vroeger ook]. [Niks nieuws|Herkenbaar]."),
    # spam
    (False, None, False, "[Wil je|Zin om] [gratis|snel] [geld|volgers] [verdienen|krijgen]? [Klik op de link|Stuur me een DM] 🚀"),
    (False, None, False, "#[{org}|woonwijk|Gent] #[fail|lol] #[vlaanderen|nederland]"),
    # threats (urgent, not a burgerbrief)
    (False, None, True, "[Die|Dat] {politicus} [verdient een kogel|moet je een lesje leren met een knuppel]. [Ik zeg het maar|Wacht maar]."),
    (False, None, True, "[Als ik|Als ze] [die ambtenaar|die boa] [tegenkom|tegenkomen] [slaat|sla] [ik|ze] [hem|haar] [in elkaar|de kop in]."),
    (False, None, True, "[Volgende week|Morgen] [ligt er iets leuks|een verrassing] [bij het stadhuis|voor de deur van de wethouder]. [Boem|Kaboem] 💣"),
]
