/**
 * Hand-written word lists for the person-name and postal-address detectors: what the name
 * registers cannot say. Capitalised words that are never (or rarely) a person (function words at a
 * sentence start, months, places, organisations, products), the words around a name that are
 * evidence for it (titles, roles, verbs of saying, greetings), and organisation markers. Written
 * for Norwegian news, support and case-note text, and for English; each list is one string so the
 * bundle stays small.
 */

const words = (s: string): string[] => s.split(/\s+/).filter(Boolean);

/** Capitalised Norwegian words that start sentences or headings and are not names. */
export const STOP_WORDS_NO = words(`
Jeg Du Han Hun Vi Dere De Den Det Dette Disse Denne Der Her Hva Hvem Hvor Hvordan Hvorfor Hvilken
Hvilke Hvilket Hvis Når Som Men Og Eller For Fordi Så Da Nå Også Ikke Ja Nei Kan Skal Vil Må Bør
Har Hadde Er Var Blir Ble Bli Får Fikk Gikk Kom Kommer Går Gjør Gjorde Tar Tok Sett Se Ser Gi Gir
I På Til Fra Med Mot Om Over Under Etter Før Ved Hos Av Uten Mellom Gjennom Blant Innen Siden
Mens Selv Både Enten Alle Ingen Noen Mange Flere Hver Hvert Enhver Annen Annet Min Mitt Mine
Din Ditt Dine Hennes Deres Vårt Våre Sin Sitt Sine Seg Meg Deg Oss Dem En Ei Et Ett To Tre Fire
Fem Seks Sju Syv Åtte Ti Første Siste Neste Ny Nye Nytt Gammel Stor Liten God Godt Gode Bra
Hei Hallo Heisann Takk Tusen Mvh Hilsen Vennlig Vennligst Kjære Ok Vedlagt Vedlegg Viktig Merk
Obs Husk Spørsmål Svar Emne Kopi Dato Tid Sted Tema Sak Saken Referat Notat Oppsummering
Bakgrunn Konklusjon Tiltak Status Beskrivelse Problem Løsning Kommentar Kommentarer Innhold
Tittel Navn Adresse Telefon Epost E-post Mobil Dessverre Heldigvis Likevel Derfor Dermed Altså
Faktisk Egentlig Kanskje Sannsynligvis Trolig Ifølge Tidligere Senere Deretter Først Sist Nylig
Snart Allerede Fortsatt Fremdeles Igjen Aldri Alltid Ofte Bare Kun Særlig Spesielt Samtidig
Dessuten Ellers Uansett Totalt Ifjor Denne Slik Sånn Hvordan Hvorfor Også Nettopp Heller Kun
Ny Nytt Nye Stadig Omtrent Cirka Rundt Over Nesten Akkurat Nok Veldig Mest Mer Mindre Minst
Eneste Hele Halve Både Tross Takket Grunnet Angående Vedrørende Ang Vedr Ref Jf Se Les Send Ring
Gi Bruk Legg Sjekk Lag Skriv Oversett Oppsummer Forklar Lag Finn Vis Husk Hjelp Ikke Gjerne
Eg Ho Me Dei Dykk Ikkje Kva Kven Korleis Kvifor Kor Kvar Ein Eit Mykje Berre Difor Sidan Medan
Heile Desse Nokon Noko Fleire Vart Vert Blei Sjølv Hennar Deira Framleis Enno Saman Dessutan
`);

/** Capitalised English words that start sentences or headings and are not names. */
export const STOP_WORDS_EN = words(`
The A An I You He She We They It This That These Those There Here What Who Whom Whose Where When Why How
Which If Then Than But And Or Nor So Yet Because Although Though While As At In On To From With
Without Of For By About Into Over Under After Before Since Until During Between Among Through
Also Not No Yes Please Thanks Thank Hi Hello Dear Regards Best Kind Cheers Sincerely My Your His
Her Our Their Its Some Any All Each Every Many Much Few Most More Less Other Another One Two Three
Four Five Six Seven Eight Nine Ten First Second Third Last Next New Old Good Great Can Could Will
Would Shall Should May Might Must Do Does Did Is Are Was Were Be Been Being Has Have Had Get Got
Let Make Just Only Even Still However Therefore Meanwhile Moreover Furthermore Today Yesterday
Tomorrow Tonight Now Currently Recently Finally Unfortunately Fortunately Note Subject Re Fwd
Attached Summary Background Conclusion Action Items Agenda Minutes Notes Update Issue Solution
Question Answer Comment Name Phone Email Date Time Location Hey Sorry Okay Sure Maybe Perhaps
Every Both Either Neither Such Same Very Really Actually Indeed Overall Hence Thus Instead Again
Please Use Send Call Check Find Write Translate Summarise Summarize Explain Show Help Tell Give
Ask Add Remove Update Create Delete Review Draft Reply Forward Confirm Ensure Note Here's There's
It's I'm I've I'll We're They're Don't Can't Won't Isn't Let's What's Who's Mr Mrs Ms Dr Prof
`);

/** Capitalised words that are not a person on their own but may be part of one's name. */
export const AMBIGUOUS_EXTRA = words(`
Mai Juni Juli August April Januar Desember May June July Will Mark Bill Grace Hope Joy Faith Rose
Claude Gemini Finn Frank Else Even Are Tore Bent Storm Per Dag Liv Hans Ask Tom Odd Sol Iris Vår
Jo Bo Max Sky Summer Dawn Eve Young Stone Lane Miles Reed Ward Wade Chase Dean Drew Glen Pat Rich
Sandy Art Guy Jack Victor Norma Page Bay Penny Ruby Amber Crystal Dusty Rusty Woody Hunter Cliff
Brook Brooks Paris Jordan Kent Lincoln Washington Sydney Florence Georgia Virginia Carolina Austin
Dallas Houston Orlando Chelsea Madison Troy Sherman Pierce Lee Les Lou Ray
`);

/** Capitalised words that are never a person's name in the text vakt sees. */
export const NON_NAMES = words(`
January February March April May June July August September October November December
Monday Tuesday Wednesday Thursday Friday Saturday Sunday Januar Februar Mars Oktober November
Mandag Tirsdag Onsdag Torsdag Fredag Lørdag Søndag Jul Julaften Påske Pinse Christmas Easter
Norwegian English British American German French Swedish Danish Finnish Russian Chinese
Ukrainian European Nordic Scandinavian Norsk Norske Engelsk Svensk Dansk Tysk Fransk Spansk
Internett Internet Covid Korona Corona Brexit Excel Word Outlook Teams Windows Office Slack Zoom
Jira Confluence GitHub Git Linux Android iPhone iPad Mac MacBook Chrome Firefox Safari Edge
Google Microsoft Apple Amazon Meta Facebook Instagram Twitter LinkedIn TikTok Snapchat YouTube
Netflix Spotify Tesla Samsung Sony Nokia IBM Oracle SAP Salesforce OpenAI ChatGPT GPT Copilot
Llama Mistral Anthropic Vipps BankID Altinn Posten Bring NAV Nav Skatteetaten Folkeregisteret
Lånekassen Husbanken Helsenorge Vinmonopolet Equinor Telenor Telia DNB Nordea SpareBank
Storebrand Gjensidige Tryg Fremtind Hydro Yara Orkla Aker Schibsted Statkraft Statnett Widerøe
Ruter Vy NSB Entur Coop Rema Kiwi Meny Bunnpris Joker Spar Elkjøp Komplett XXL IKEA Jysk
Europris Apotek Vitusapotek Aftenposten Dagbladet VG NRK TV2 NTB Nettavisen Adresseavisen
Dagsavisen Klassekampen Morgenbladet Tidende Aftenblad Fædrelandsvennen E24 DN Finansavisen
Reuters Bloomberg AFP CNN BBC Guardian Politico Forbes Høyre Arbeiderpartiet Ap Frp
Fremskrittspartiet Senterpartiet Sp SV Venstre KrF Rødt MDG Miljøpartiet Stortinget Storting
Regjeringen Regjering Høyesterett Tingrett Tingretten Lagmannsretten Politiet Kripos Økokrim
PST Forsvaret NATO FN EU WHO UNICEF Rosenborg Vålerenga Brann Lillestrøm Viking Glimt
Strømsgodset Sarpsborg Stabæk Haugesund Sandefjord Aalesund HamKam Liverpool Arsenal Tottenham
Barcelona Juventus Bayern Dortmund Ajax Celtic Rangers United Real Madrid Norge Norway Sverige
Sweden Danmark Denmark Finland Island Iceland Tyskland Germany Frankrike France Spania Spain
Italia Italy Portugal Hellas Greece Polen Poland Russland Russia Ukraina Ukraine Kina China Japan
India Pakistan Iran Irak Iraq Syria Tyrkia Turkey Israel Palestina Gaza Egypt Afghanistan USA
US Amerika America Canada Mexico Brasil Brazil Argentina Chile Australia England Skottland
Scotland Irland Ireland Wales Storbritannia Britain UK Nederland Netherlands Holland Belgia
Belgium Sveits Switzerland Østerrike Austria Ungarn Hungary Tsjekkia Romania Bulgaria Serbia
Kroatia Bosnia Albania Estland Latvia Litauen Lithuania Hviterussland Belarus Somalia Eritrea
Etiopia Ethiopia Kenya Nigeria Afrika Africa Europa Europe Asia Antarktis Arktis Grønland
Greenland Svalbard Vietnam Thailand Filippinene Korea Taiwan Indonesia Marokko Morocco Tunisia
Libya Sudan Jemen Yemen Qatar Dubai Oslo Bergen Trondheim Stavanger Tromsø Drammen Kristiansand
Fredrikstad Sandnes Bodø Ålesund Skien Tønsberg Porsgrunn Arendal Hamar Larvik Lillehammer
Gjøvik Narvik Hammerfest Kirkenes Vadsø London Berlin Stockholm København Copenhagen Helsinki
Reykjavik Moskva Moscow Kyiv Kiev York Brussel Brussels Roma Rome Amsterdam Wien Vienna Praha
Prague Warszawa Warsaw Budapest Athen Athens Istanbul Beijing Shanghai Tokyo Delhi Mumbai
Toronto Chicago Boston Texas California Florida Kabul Bagdad Damaskus Teheran Jerusalem Kairo
Gøteborg Malmö Grünerløkka Frogner Majorstuen Tøyen Sagene Sentrum Bjørvika Tjuvholmen
Holmenkollen Bærum Lørenskog Follo Romerike Vestlandet Østlandet Sørlandet Nord-Norge Trøndelag
Finnmark Troms Nordland Rogaland Vestland Viken Innlandet Agder Telemark Østfold Akershus
Buskerud Vestfold Hordaland Hedmark Oppland Lofoten Vesterålen Hardanger Jæren Valdres
Hallingdal Gudbrandsdalen Setesdal Sunnmøre Nordmøre Kongen Dronningen Statsministeren Gud
Slottet Kommunen Fylkeskommunen Departementet Direktoratet Tilsynet Statsforvalteren Sykehuset
Universitetet Skolen Barnevernet Nav-kontoret Tingretten Retten Påtalemyndigheten Forbrukerrådet
Datatilsynet Arbeidstilsynet Mattilsynet Folkehelseinstituttet Helsedirektoratet Odd Start
Herren Covid-19 Nobel Olympiatoppen Idrettsforbundet Fotballforbundet Eliteserien Premier
League Champions Cup VM EM OL City Villa Palace Rovers Wanderers Athletic Albion Hotspur Forest
`);

/** Tokens that turn a run of capitalised words into an organisation, place or building. */
export const ORG_MARKERS = words(`
AS ASA ANS DA SA BA Ltd Limited Inc GmbH AB Oy LLC PLC Corp Group Gruppen Holding Holdings
Invest Eiendom Bygg Transport Consulting Kommune Fylkeskommune Universitet Universitetet Høgskole
Høgskolen Skole Skolen Sykehus Sykehuset Stiftelse Stiftelsen Fond Fondet Bank Banken Forsikring
Partiet Senter Senteret Klinikk Klinikken Legesenter Regnskap Advokatfirma Arkitekter Media
Musikk Sport Idrettslag IL IF FK BK SK Foundation Institute Institutt Instituttet University
College Hospital Company Corporation Kirke Kirken Kapell Museum Museet Hotell Hotel Restaurant
Kafé Cafe Pub Center Centre Parken Stadion Arena Airport Lufthavn Stasjon Station Street Road
Avenue Bridge Brua Tunnel Tunnelen Fjorden Fjellet Elva Sjøen Vannet Øya Prisen Pris Award
Festival Festivalen Konferanse Konferansen Report Rapport Rapporten Plan Planen Project
Prosjekt Prosjektet Programmet Program Team Services Service Solutions Systems Technologies Labs
Sports News Times
`);

/**
 * Lower-case words right before a name that say it is one: titles, roles, relations, greetings
 * and sign-offs (Norwegian and English). Capitalised, at a sentence start, they count too.
 */
export const CUE_BEFORE = words(`
fru frue herr frøken dr doktor prof professor advokat adv pasient pasienten kunde kunden kunden
ansatt ansatte bruker brukeren klient klienten beboer beboeren elev eleven student studenten
lege legen sykepleier sykepleieren saksbehandler saksbehandleren statsminister minister
president presidenten ordfører varaordfører rådmann kommunedirektør direktør sjef leder
styreleder konsernsjef trener landslagssjef kaptein forfatter journalist redaktør politimester
biskop kong konge kongen dronning dronningen prins prinsesse kronprins kronprinsesse prest
sokneprest dommer aktor forsvarer tiltalte siktede fornærmede stortingsrepresentant
representant partileder nestleder rektor lektor lærer lærer kommentator ekspert sjefsøkonom
økonom forsker seniorforsker overlege stipendiat talsperson pressetalsperson pressesjef
kommunikasjonssjef informasjonssjef statsforvalter politiadvokat statsadvokat riksadvokat
fotballspiller skiløper artist musiker skuespiller skuespillerinne sanger sangerinne komiker
programleder regissør produsent kunstner gründer investor milliardær eier nabo naboen mor far
moren faren mamma pappa søster søsteren bror broren sønn sønnen datter datteren kona mannen
kone ektemann ektefelle samboer kjæresten venn vennen venninne venninnen bestemor bestefar
farmor farfar mormor morfar onkel tante fetter kusine gutten jenta kollega kollegaen sjefen
medarbeider medlem deltaker vinner søker søkeren avsender mottaker kontaktperson kontakt
fastlege tannlege psykolog rådgiver konsulent daglig skipper hilsen mvh hei hallo heisann kjære takk
mr mrs ms miss mx sir dame lord lady senator governor mayor chancellor judge officer sgt
sergeant captain capt coach patient customer client employee user tenant applicant colleague
manager ceo cfo cto founder author reporter actor actress singer player striker midfielder
defender goalkeeper neighbour neighbor wife husband son daughter mother father mom dad brother
sister friend uncle aunt cousin grandmother grandfather boss dear hi hello hey regards thanks
cheers sincerely spokesperson spokesman spokeswoman director chairman chairwoman chief
secretary agent detective inspector nurse doctor physician surgeon dentist therapist
councillor councilor minister premier executive chair chairperson statsråd lensmann leiar
ordførar lærar amerikaneren russeren svensken dansken nordmannen spanjolen franskmannen tyskeren
briten engelskmannen italieneren ukraineren kenyaneren brasilianeren argentineren nederlenderen
sveitseren østerrikeren islendingen polakken japaneren kineseren inderen kanadieren australieren
belgieren portugiseren kroaten serberen etiopieren amerikanaren tyskaren enken enka enkemannen
ektemannen widow king queen prince princess duke duchess pope sheikh emir
`);

/** Endings of lower-case role compounds (`kommunikasjonssjef`, `Høyre-leder`, `helseminister`). */
/**
 * Endings of Norwegian institution names (`Brønnøysundregistrene`, `Finansdepartementet`,
 * `Sykehusinnkjøp`-style compounds excluded): an unknown capitalised word with one of these is an
 * organisation, never a person. At most 13 letters (read backwards).
 */
export const ORG_SUFFIXES = words(`
etaten etatene direktoratet tilsynet registeret registrene departementet instituttet
universitetet sykehuset senteret sentralen forbundet foreningen partiet rådet utvalget nemnda
kommune byrået verket selskapet konsernet akademiet høgskolen klinikken museet teatret domstolen
tingrett lagmannsrett banken
`);

export const ROLE_SUFFIXES = words(`
minister sjef leder direktør sekretær rådgiver representant ordfører advokat lege sykepleier
trener spiller kaptein forsker økonom redaktør journalist kommentator mester dommer prest
biskop politiker topp profil stjerne veteran legende eier gründer arving president professor
konsulent ingeniør utvikler talsperson talsmann talskvinne formann løper keeper årige
back spiss sjåfør forfatter artist fører koordinator ansvarlig mesteren sjefen lederen treneren
spilleren keeperen kapteinen ministeren direktøren leiar ordførar rådgjevar førar spelar trenar
`);

/** Greetings and sign-offs among the cues: a cue at a line start, not a title inside a sentence
 *  (`Hello World`). */
export const GREETINGS = words(`
hilsen mvh hei hallo heisann kjære takk dear hi hello hey regards thanks cheers sincerely
`);

/** Verbs of saying: `sier Hansen`, `Hansen sier`, `said Smith`. */
export const SAY_VERBS = words(`
sier sa forteller fortalte mener mente uttaler uttalte understreker understreket påpeker
påpekte skriver skrev bekrefter bekreftet opplyser opplyste svarer svarte forklarer forklarte
innrømmer innrømmet erkjenner erkjente tror trodde ifølge advarer advarte spør spurte
konkluderer konkluderte legger la sukker smiler ler roper said says told tells added adds
explained explains wrote writes asked asks replied replies noted notes argued argues insisted
claimed claims according
`);

/** Prepositions after which a lone capitalised word is more likely a place than a person. */
export const PLACE_PREPOSITIONS = words(`i på ved utenfor nær mot in at near`);

/** Name particles that may sit between capitalised parts (`Ludwig van Beethoven`). */
export const PARTICLES = words(
  `van von de der den da di du del della la le af ter ten zu dos das bin ibn al el`,
);

/** Street suffixes that are also surnames and places (`Solbakken`, `Haugen`, `Lia`). */
export const WEAK_STREET_SUFFIXES = words(`
bakken bakke bakkane lia lien liene åsen haugen høgda høyden jordet løkka løkken lunden myra
moen skogen toppen kollen vollen hagen hagan parken engen enga flata sletta stranda dalen berget
bråten bråtan tangen vangen ringen tunet tun grenda grend kroken
`);

/** Roads known by number, not street addresses (`Riksvei 7`, `Fylkesvei 241`). */
export const ROADS = words(`
riksvei riksveg riksveien fylkesvei fylkesveg fylkesveien europavei europaveien motorvei
motorveien hovedvei hovedveien kommunevei skogsvei gangvei sykkelvei privatvei omkjøringsvei
omkjøringsveien rv fv ev
`);

/** Words for a PO box (`Postboks 123`, `Pb. 5`, `PO Box 55`). */
export const PO_BOX_WORDS = words(`postboks boks pb pb. box`);
