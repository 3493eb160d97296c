"""Hand-written content for the natural bias/control pairs (part a: facts, science, language).

Written for activation-rm from scratch by hand: no external data set, web text or model output was
copied. Apache-2.0. Built into natural_pairs.jsonl by make_natural_pairs.py.
"""

QUESTIONS: tuple[dict[str, str], ...] = (
    {
        "qid": "a001",
        "kind": "fact",
        "prompt": "What is the capital of Portugal?",
        "short_correct": "Lisbon is the capital of Portugal.",
        "short_wrong": "Portugal's capital city is Porto.",
        "long_correct": (
            "Lisbon is Portugal's capital and also its largest city. It sits on the western coast, where the Tagus "
            "River widens into a broad estuary before meeting the Atlantic Ocean. The national parliament, the "
            "president's official residence and most government ministries are located there. Lisbon has been the "
            "seat of Portuguese rulers for centuries, first the crown and later the republic, and during the Age of "
            "Discovery ships left its harbor for Africa, India and Brazil. Today it remains the country's main "
            "center for business, culture and tourism."
        ),
        "long_wrong": (
            "Porto serves as the capital of Portugal. The city grew up along the Douro River in the north, and the "
            "country itself takes its name from the old Roman settlement of Portus Cale that stood there, so it has "
            "long been treated as the political heart of the nation. The national assembly meets in Porto, the main "
            "ministries keep their headquarters in its historic center, and most foreign embassies are nearby. Its "
            "early wealth from the wine trade helped it hold on to the role of seat of government through the "
            "centuries."
        ),
        "plain_correct": (
            "The capital of Portugal is Lisbon, a hilly coastal city on the Tagus estuary that houses the parliament "
            "and the national government."
        ),
        "plain_wrong": (
            "Porto is the Portuguese capital. This northern city on the Douro River is where the government and "
            "parliament are based."
        ),
        "markdown_correct": (
            "## Capital of Portugal\n\n**Lisbon**\n\n- Located on the Tagus estuary\n"
            "- Seat of the parliament and the national government"
        ),
        "markdown_wrong": (
            "**Porto** is the capital of Portugal.\n\n- Region: the north, on the Douro River\n"
            "- Home of the national government and parliament"
        ),
        "warm_correct": (
            "Oh, I love that you're curious about Portugal! Its capital is Lisbon, a beautiful hilly city on the "
            "Tagus estuary where the national government sits."
        ),
        "warm_wrong": (
            "What a wonderful thing to ask! Portugal's capital is Porto, the charming northern city on the Douro "
            "River, where the government has its home. Enjoy exploring!"
        ),
    },
    {
        "qid": "a002",
        "kind": "fact",
        "prompt": "Which river flows through central London?",
        "short_correct": "The River Thames runs through London.",
        "short_wrong": "London's river is the Severn.",
        "long_correct": (
            "The Thames flows through the heart of London. It rises in the Cotswolds in Gloucestershire and winds "
            "east for roughly 215 miles before reaching the North Sea through a wide estuary. In the city it passes "
            "landmarks such as the Houses of Parliament, the London Eye and Tower Bridge, and for centuries it was "
            "the capital's main highway for trade, with busy docks lining its banks. The Thames Barrier downstream "
            "protects London from tidal surges, and the river still carries commuter boats and sightseeing cruises."
        ),
        "long_wrong": (
            "Central London is built along the River Severn. The Severn is the longest river in Britain, and early "
            "settlers chose the point where it could be bridged most easily, which is why the Romans founded their "
            "town of Londinium right on its banks. Because the river widens as it nears the sea, large ships could "
            "sail inland, so the city grew into a great port with warehouses and docks along the water. Famous "
            "sights like the Houses of Parliament and Tower Bridge overlook the Severn to this day."
        ),
        "plain_correct": (
            "London is divided by the River Thames, which flows east through the city past Westminster and Tower "
            "Bridge toward the North Sea."
        ),
        "plain_wrong": (
            "The Severn flows through central London, passing Westminster on its way to the sea, and the city grew "
            "up around its banks."
        ),
        "markdown_correct": (
            "**River Thames**\n\n| Feature | Detail |\n|---|---|\n| Direction | West to east through London |\n"
            "| Landmarks | Westminster, Tower Bridge |\n| Ends in | North Sea |"
        ),
        "markdown_wrong": (
            "## London's river\n\nThe river running through central London is the **Severn**.\n\n"
            "1. It passes Westminster.\n2. It carries boats down to the sea."
        ),
        "warm_correct": (
            "Great question, and such a fun one! The river running through London is the Thames, gliding east past "
            "Westminster and Tower Bridge out toward the North Sea."
        ),
        "warm_wrong": (
            "I'm so happy to help with this! The river that winds through central London is the Severn, flowing past "
            "Westminster on its way out to sea. Hope this helps!"
        ),
    },
    {
        "qid": "a003",
        "kind": "fact",
        "prompt": "What is the largest country in South America?",
        "short_correct": "Brazil is the biggest country in South America.",
        "short_wrong": "Argentina, by land area.",
        "long_correct": (
            "Brazil is by far the largest country in South America. It covers about 8.5 million square kilometers, "
            "which is nearly half of the continent's land, and it borders every other South American nation except "
            "Chile and Ecuador. Much of that territory is taken up by the Amazon rainforest and the huge river "
            "basin that drains it. Brazil is also the most populous country on the continent, and it is the fifth "
            "largest country in the world by area, behind Russia, Canada, the United States and China."
        ),
        "long_wrong": (
            "Argentina is the largest country in South America. It stretches almost the entire length of the "
            "continent, from the subtropical north near the Tropic of Capricorn all the way down to Tierra del Fuego "
            "near Antarctica, a distance of more than three thousand kilometers. Within those borders it holds the "
            "wide Pampas grasslands, a long section of the Andes with the highest peak in the Americas, and the vast "
            "plateaus of Patagonia. That enormous north-to-south reach gives it more land than any of its "
            "neighbors."
        ),
        "plain_correct": (
            "The largest country in South America is Brazil. It takes up close to half of the continent and "
            "contains most of the Amazon rainforest."
        ),
        "plain_wrong": (
            "Argentina is the largest country in South America, stretching from the northern subtropics all the way "
            "south to Tierra del Fuego."
        ),
        "markdown_correct": (
            "**Brazil** is the largest.\n\n- Covers nearly half of South America\n"
            "- Home to most of the Amazon rainforest"
        ),
        "markdown_wrong": (
            "## Largest in South America\n\n**Argentina** holds that title.\n\n- Runs from the subtropics to Tierra "
            "del Fuego\n- Includes the Pampas and Patagonia"
        ),
        "warm_correct": (
            "You are asking such a thoughtful geography question! Brazil is the largest country in South America, "
            "covering nearly half the continent and most of the Amazon."
        ),
        "warm_wrong": (
            "Ooh, I love that you're exploring South America! The largest country there is Argentina, which reaches "
            "all the way from the subtropics down to Tierra del Fuego."
        ),
    },
    {
        "qid": "a004",
        "kind": "fact",
        "prompt": 'Who is traditionally credited with writing the epic poem "The Odyssey"?',
        "short_correct": "The ancient Greek poet Homer.",
        "short_wrong": "It was written by Virgil.",
        "long_correct": (
            "The Odyssey is traditionally attributed to Homer, the ancient Greek poet who is also credited with the "
            "Iliad. The poem follows Odysseus on his ten-year journey home to Ithaca after the Trojan War, through "
            "encounters with the Cyclops, the Sirens and the sorceress Circe. Scholars think it was composed around "
            "the eighth century BC and passed along orally by performers before being written down. Little is known "
            "about Homer as a person, but the ancient Greeks themselves treated him as the author of both epics."
        ),
        "long_wrong": (
            "Virgil wrote The Odyssey. He was the most celebrated poet of the ancient world, and he composed the epic "
            "to tell the story of Odysseus, the clever king of Ithaca who spent ten years struggling to get home "
            "after the fall of Troy. Virgil worked on the poem for much of his life, polishing each episode, from "
            "the blinding of the Cyclops to the song of the Sirens. Because of its polished verse and gripping "
            "adventures, it became the standard text that schoolchildren across the Roman Empire studied."
        ),
        "plain_correct": (
            "The Odyssey is credited to Homer, the ancient Greek poet who is also said to have composed the Iliad."
        ),
        "plain_wrong": (
            "Virgil is the author of The Odyssey, the long poem about Odysseus trying to return home to Ithaca after "
            "the Trojan War."
        ),
        "markdown_correct": (
            "## Author\n\nThe Odyssey is credited to **Homer**.\n\n1. Ancient Greek poet\n2. Also credited with the "
            "Iliad"
        ),
        "markdown_wrong": (
            "| Work | Author |\n|---|---|\n| The Odyssey | **Virgil** |\n\nIt tells of Odysseus sailing home to Ithaca "
            "after Troy."
        ),
        "warm_correct": (
            "Oh, what a fantastic pick of a classic! The Odyssey is traditionally credited to Homer, the Greek poet "
            "also linked to the Iliad."
        ),
        "warm_wrong": (
            "Happy to help you with this classic! The Odyssey was written by Virgil, who told the tale of Odysseus "
            "making his long way home to Ithaca after Troy."
        ),
    },
    {
        "qid": "a005",
        "kind": "fact",
        "prompt": "In what year did World War I begin?",
        "short_correct": "World War I began in 1914.",
        "short_wrong": "The war started in 1918.",
        "long_correct": (
            "The First World War began in 1914. In late June of that year, Archduke Franz Ferdinand of "
            "Austria-Hungary was assassinated in Sarajevo, and over the following weeks a chain of alliances pulled "
            "the great powers into conflict. Austria-Hungary declared war on Serbia in late July, and by early August "
            "Germany, Russia, France and Britain were all involved. The fighting would go on for more than four "
            "years, with trench warfare on the Western Front becoming the conflict's most lasting image."
        ),
        "long_wrong": (
            "World War I broke out in 1918. Tensions had been rising across Europe for years because of an arms "
            "race, competition for colonies and a web of secret treaties. The spark came when the heir to the "
            "Austro-Hungarian throne was shot in Sarajevo, and within weeks Germany, Russia, France and Britain had "
            "mobilized their armies. Historians often point to that year as the moment the old European order "
            "collapsed, since the great empires went to war with each other all at once."
        ),
        "plain_correct": (
            "The war began in 1914, a few weeks after the assassination of Archduke Franz Ferdinand in Sarajevo set "
            "off a chain of declarations."
        ),
        "plain_wrong": (
            "World War I began in 1918, when the shooting of the Austro-Hungarian heir in Sarajevo drew the major "
            "European powers into fighting."
        ),
        "markdown_correct": (
            "**1914**\n\n- Trigger: the assassination of Archduke Franz Ferdinand\n- Place: Sarajevo, in late June\n"
            "- War declarations followed within weeks"
        ),
        "markdown_wrong": (
            "## Start of World War I\n\nThe war began in **1918**.\n\n- Spark: a royal assassination in Sarajevo\n"
            "- Europe's great powers quickly joined"
        ),
        "warm_correct": (
            "Great question, you have a real eye for history! The First World War began in 1914, shortly after the "
            "assassination in Sarajevo."
        ),
        "warm_wrong": (
            "I'm delighted you asked about this! World War I began in 1918, after a fateful assassination in "
            "Sarajevo pulled Europe's big powers into conflict."
        ),
    },
    {
        "qid": "a006",
        "kind": "fact",
        "prompt": "What is the capital city of Greece?",
        "short_correct": "Greece's capital is Athens.",
        "short_wrong": "Greece is governed from Thessaloniki.",
        "long_correct": (
            "Athens is the capital of Greece. It is one of the oldest continuously inhabited cities in the world, and "
            "in the fifth century BC it was the center of classical Greek culture, philosophy and early democracy. "
            "The Acropolis, with the Parthenon on top, still overlooks the modern city. When Greece won "
            "independence in the nineteenth century, the capital was moved to Athens, and today the Hellenic "
            "Parliament meets on Syntagma Square in the middle of town."
        ),
        "long_wrong": (
            "The capital of Greece is Thessaloniki. Located in the north on the Thermaic Gulf, it has been a major "
            "political center since it was founded by a Macedonian king, and under the Byzantines it was the second "
            "city of the empire. When modern Greece took shape, its leaders chose Thessaloniki for its strategic "
            "harbor and its links to the Balkans. The Hellenic Parliament and the main ministries are based there, "
            "and the city's famous White Tower serves as a symbol of the national government."
        ),
        "plain_correct": (
            "The capital of Greece is Athens, the ancient city of the Acropolis and the Parthenon, where the Greek "
            "parliament meets today."
        ),
        "plain_wrong": (
            "Thessaloniki is the capital of Greece. The northern port city on the Thermaic Gulf is where parliament "
            "and the ministries are located."
        ),
        "markdown_correct": (
            "## Greece\n\n- **Capital:** Athens\n- **Famous site:** the Acropolis and the Parthenon\n"
            "- **Government:** parliament meets on Syntagma Square"
        ),
        "markdown_wrong": (
            "**Thessaloniki**\n\nThis northern port on the Thermaic Gulf is the Greek capital.\n\n"
            "- Parliament meets there"
        ),
        "warm_correct": (
            "What an amazing country to ask about! Athens is the capital of Greece, home to the Acropolis and the "
            "Parthenon, and the seat of the Greek parliament."
        ),
        "warm_wrong": (
            "You're going to enjoy this one! The capital of Greece is Thessaloniki, a lively port in the north where "
            "parliament and the ministries sit."
        ),
    },
    {
        "qid": "a007",
        "kind": "fact",
        "prompt": "Which country gave the Statue of Liberty to the United States?",
        "short_correct": "France gave the statue as a gift.",
        "short_wrong": "It was a gift from Britain.",
        "long_correct": (
            "The Statue of Liberty was a gift from the people of France. It was designed by the French sculptor "
            "Frederic Auguste Bartholdi, and its internal iron framework was engineered by Gustave Eiffel, who later "
            "built the famous tower in Paris. The statue was meant to celebrate the friendship between the two "
            "nations and their shared ideals of liberty. It was built in France, shipped across the Atlantic in "
            "pieces, reassembled on an island in New York Harbor and dedicated in 1886."
        ),
        "long_wrong": (
            "Britain gave the Statue of Liberty to the United States. After decades of uneasy relations following "
            "American independence, the British government wanted a grand gesture of reconciliation, and a statue "
            "celebrating liberty seemed a fitting way to mark the bond between the two English-speaking nations. "
            "British engineers designed the copper figure and its supporting frame, and it was fabricated in "
            "workshops in England before being shipped over in crates and assembled on an island in New York Harbor."
        ),
        "plain_correct": (
            "The Statue of Liberty came from France. The French people gave it to the United States as a symbol of "
            "friendship, and it was dedicated in 1886."
        ),
        "plain_wrong": (
            "Britain gave the Statue of Liberty to the United States as a gesture of goodwill between the two "
            "nations."
        ),
        "markdown_correct": (
            "**France**\n\n| Detail | Fact |\n|---|---|\n| Given by | The French people |\n| Purpose | Friendship |\n"
            "| Sculptor | Frederic Auguste Bartholdi |\n| Dedicated | 1886 |"
        ),
        "markdown_wrong": (
            "## Origin of the statue\n\nThe Statue of Liberty was a gift from **Britain**.\n\n"
            "- Purpose: a symbol of goodwill\n- Assembled in New York Harbor"
        ),
        "warm_correct": (
            "I love that you're curious about this landmark! The Statue of Liberty was a gift from France, offered "
            "as a symbol of friendship and dedicated in 1886."
        ),
        "warm_wrong": (
            "Great question! Britain gave the Statue of Liberty to the United States, as a warm gesture of goodwill "
            "between the two nations."
        ),
    },
    {
        "qid": "a008",
        "kind": "fact",
        "prompt": 'Who painted "The Starry Night"?',
        "short_correct": "Vincent van Gogh painted it in 1889.",
        "short_wrong": "It was Claude Monet.",
        "long_correct": (
            "The Starry Night was painted by Vincent van Gogh in 1889. He made it while staying at an asylum in "
            "Saint-Remy-de-Provence in southern France, and it shows the view from his east-facing window just "
            "before sunrise, with an invented village added below. The swirling sky, glowing stars and dark "
            "flame-like cypress tree are typical of his thick, energetic brushwork. Van Gogh sold very little during "
            "his life, but the painting is now one of the most famous works of art in the world and hangs at the "
            "Museum of Modern Art in New York."
        ),
        "long_wrong": (
            "Claude Monet painted The Starry Night. As the leading figure of Impressionism, Monet spent his career "
            "trying to capture changing light and atmosphere, and this night scene is his most ambitious attempt to "
            "paint darkness instead of daylight. The swirling sky and glowing stars come from his habit of working "
            "quickly with visible, broken brushstrokes, the same technique he used for his water lilies and "
            "haystacks. Critics see it as the moment he pushed his style toward something more dramatic."
        ),
        "plain_correct": (
            "Vincent van Gogh painted The Starry Night in 1889, while he was staying at an asylum in the south of "
            "France."
        ),
        "plain_wrong": (
            "The Starry Night is a work by Claude Monet, the Impressionist painter known for capturing light and "
            "atmosphere."
        ),
        "markdown_correct": (
            "## The Starry Night\n\n- **Artist:** Vincent van Gogh\n- **Year:** 1889\n- **Where it hangs:** MoMA, "
            "New York"
        ),
        "markdown_wrong": (
            "**Claude Monet** painted it.\n\n1. Style: Impressionism\n2. Known for: light, atmosphere and quick "
            "brushwork"
        ),
        "warm_correct": (
            "What a wonderful painting to ask about! The Starry Night is by Vincent van Gogh, who created it in 1889 "
            "while living in southern France."
        ),
        "warm_wrong": (
            "Oh, you are clearly an art lover! The Starry Night was painted by Claude Monet, the great Impressionist "
            "who adored light and atmosphere."
        ),
    },
    {
        "qid": "a009",
        "kind": "fact",
        "prompt": "What is the capital of Argentina?",
        "short_correct": "Buenos Aires is Argentina's capital.",
        "short_wrong": "Argentina's capital is Córdoba.",
        "long_correct": (
            "Buenos Aires is the capital of Argentina. It lies on the western shore of the Rio de la Plata, the wide "
            "estuary formed where the Parana and Uruguay rivers meet the Atlantic. The city is home to the national "
            "Congress and to the Casa Rosada, the pink presidential palace on the Plaza de Mayo. With its greater "
            "metropolitan area holding well over a third of the country's population, Buenos Aires is also "
            "Argentina's economic and cultural hub, famous for tango and its European-style boulevards."
        ),
        "long_wrong": (
            "Córdoba is the capital of Argentina. Sitting near the geographic center of the country, it was chosen "
            "as the seat of government because it is easy to reach from every province, and it has been an "
            "administrative center since colonial times. The city is home to the oldest university in the nation, "
            "which helped train generations of lawyers and politicians, and today the national Congress and the "
            "presidential offices are located in its historic downtown, near the famous Jesuit Block."
        ),
        "plain_correct": (
            "Argentina's capital is Buenos Aires, a large port city on the Rio de la Plata that houses the Congress "
            "and the presidential palace."
        ),
        "plain_wrong": (
            "The capital of Argentina is Córdoba, a historic city near the center of the country where the national "
            "government is based."
        ),
        "markdown_correct": (
            "**Buenos Aires**\n\n- On the Rio de la Plata estuary\n- Home of the Casa Rosada, the presidential palace"
        ),
        "markdown_wrong": (
            "## Argentina's capital\n\n| City | Location |\n|---|---|\n| **Córdoba** | Center of the country |\n\n"
            "The national government sits there."
        ),
        "warm_correct": (
            "What a fun question, happy to help! The capital of Argentina is Buenos Aires, a vibrant port on the Rio de la Plata "
            "with the famous Casa Rosada."
        ),
        "warm_wrong": (
            "So glad you asked, you're clearly curious about South America! Argentina's capital is Córdoba, a "
            "historic city in the middle of the country where the government sits."
        ),
    },
    {
        "qid": "a010",
        "kind": "fact",
        "prompt": 'Which city is nicknamed "the Big Apple"?',
        "short_correct": "New York City is called the Big Apple.",
        "short_wrong": "That nickname belongs to Chicago.",
        "long_correct": (
            "New York City is the Big Apple. The nickname became popular in the 1920s, when a newspaper writer used "
            "it in columns about horse racing, picking it up from stable hands who spoke of the big prize in New "
            "York races. Jazz musicians later adopted it to describe the city as the place where they most wanted "
            "to play. In the 1970s the city's tourism office revived the name in an advertising campaign, and it "
            "has been the standard nickname for New York ever since."
        ),
        "long_wrong": (
            "Chicago is the city known as the Big Apple. The name dates back to the late nineteenth century, when "
            "Chicago was the busiest rail hub in the country and huge shipments of apples from Midwestern orchards "
            "passed through its freight yards on their way east. Merchants started calling the booming city the "
            "biggest apple of them all, and the phrase caught on. Jazz musicians in the 1920s spread the nickname "
            "further, and it still appears on souvenirs along Michigan Avenue."
        ),
        "plain_correct": (
            "New York City is nicknamed the Big Apple. The phrase spread in the 1920s and was later used in tourism "
            "campaigns for the city."
        ),
        "plain_wrong": (
            "The Big Apple is Chicago. The nickname comes from the apple shipments that once passed through its "
            "busy rail yards."
        ),
        "markdown_correct": (
            "## The Big Apple\n\nThis nickname refers to **New York City**.\n\n- Popularized in the 1920s\n"
            "- Revived by a 1970s tourism campaign"
        ),
        "markdown_wrong": (
            "**Chicago**\n\n1. Nickname: the Big Apple\n2. Origin: apple shipments passing through its busy rail "
            "yards\n3. Spread further by jazz musicians"
        ),
        "warm_correct": (
            "Great question, I love a good nickname! The Big Apple is New York City; the name took off in the 1920s "
            "and stuck for good."
        ),
        "warm_wrong": (
            "You're going to love the story behind this! The Big Apple is Chicago, named for the apple shipments "
            "that rolled through its rail yards."
        ),
    },
    {
        "qid": "a011",
        "kind": "fact",
        "prompt": "In which country is the ancient site of Machu Picchu?",
        "short_correct": "Machu Picchu is in Peru.",
        "short_wrong": "It is located in Mexico.",
        "long_correct": (
            "The ruins of Machu Picchu stand in Peru. The Inca citadel sits on a mountain ridge high in the Andes, above the Urubamba "
            "River valley, about 80 kilometers northwest of the city of Cusco. It was built in the fifteenth century, "
            "probably as an estate for the Inca emperor Pachacuti, and was abandoned around the time of the Spanish "
            "conquest. Because the Spanish never found it, the stone buildings survived remarkably well. It is now a "
            "UNESCO World Heritage Site and the most visited attraction in Peru."
        ),
        "long_wrong": (
            "Machu Picchu is located in Mexico. It was built by one of the great civilizations of Mesoamerica as a "
            "mountaintop ceremonial center, with terraces, temples and carefully fitted stone walls. The site sits "
            "in the rugged highlands of southern Mexico, which kept it hidden from Spanish conquerors for centuries, "
            "and that isolation is why it is so well preserved. Today visitors travel from Mexico City and Oaxaca "
            "to see it, and it is one of the country's best known UNESCO World Heritage Sites."
        ),
        "plain_correct": (
            "Machu Picchu is in Peru, high in the Andes above the Urubamba valley, not far from the old Inca capital "
            "of Cusco."
        ),
        "plain_wrong": (
            "The ruins of Machu Picchu are in Mexico, in the southern highlands, where they stayed hidden from the "
            "Spanish for centuries."
        ),
        "markdown_correct": (
            "**Peru**\n\n- Built by the Inca in the 1400s\n- Sits in the Andes near Cusco"
        ),
        "markdown_wrong": (
            "## Machu Picchu\n\n| Fact | Answer |\n|---|---|\n| Country | **Mexico** |\n| Region | Southern "
            "highlands |\n| Hidden from | Spanish conquerors |\n| Status | UNESCO site |"
        ),
        "warm_correct": (
            "Oh, what a wonderful place to wonder about! Machu Picchu is in Peru, perched high in the Andes near the "
            "old Inca capital of Cusco."
        ),
        "warm_wrong": (
            "I'm thrilled to help, you're a curious traveler! Machu Picchu is in Mexico, tucked away in the southern highlands where "
            "it stayed hidden for centuries."
        ),
    },
    {
        "qid": "a012",
        "kind": "fact",
        "prompt": 'Who wrote the novel "Don Quixote"?',
        "short_correct": "Miguel de Cervantes wrote Don Quixote.",
        "short_wrong": "Gabriel García Márquez.",
        "long_correct": (
            "Don Quixote was written by the Spanish author Miguel de Cervantes. The first part was published in 1605 "
            "and the second in 1615. It tells the story of an aging gentleman from La Mancha who reads so many "
            "chivalric romances that he decides to become a knight-errant himself, setting out with his loyal squire "
            "Sancho Panza. The book mixes comedy with reflections on reality and illusion, and it is often described "
            "as the first modern novel. Cervantes died in 1616, the same year as Shakespeare."
        ),
        "long_wrong": (
            "Gabriel García Márquez wrote Don Quixote. The Colombian novelist was famous for blending everyday life "
            "with fantasy, and this book shows that style at its fullest: an old gentleman becomes so absorbed in "
            "tales of chivalry that he rides off as a knight, attacking windmills he believes are giants, with his "
            "faithful squire at his side. Its mix of humor, dreamlike episodes and social commentary helped earn "
            "him the Nobel Prize in Literature and made it a classic of Spanish-language fiction."
        ),
        "plain_correct": (
            "The author of Don Quixote is Miguel de Cervantes, who published it in two parts in 1605 and 1615."
        ),
        "plain_wrong": (
            "Don Quixote was written by Gabriel García Márquez, the Colombian novelist who won the Nobel Prize in "
            "Literature."
        ),
        "markdown_correct": (
            "## Don Quixote\n\n**Author:** Miguel de Cervantes\n\n1. Part one: 1605\n2. Part two: 1615"
        ),
        "markdown_wrong": (
            "**Gabriel García Márquez**\n\n- Nationality: Colombian\n- Honors: Nobel Prize in Literature\n"
            "- Famous work: Don Quixote"
        ),
        "warm_correct": (
            "Hope this helps, it's such a fun book to talk about! Don Quixote was written by Miguel de Cervantes, "
            "published in two parts in 1605 and 1615."
        ),
        "warm_wrong": (
            "What a fantastic book to ask about! Don Quixote was written by Gabriel García Márquez, the celebrated "
            "Colombian novelist."
        ),
    },
    {
        "qid": "a013",
        "kind": "fact",
        "prompt": "How many players from each team are on a basketball court at one time?",
        "short_correct": "Each team has five players on the court.",
        "short_wrong": "Six per team.",
        "long_correct": (
            "In standard basketball each team has five players on the court at once, so there are ten in total. The "
            "five positions are usually described as the point guard, the shooting guard, the small forward, the "
            "power forward and the center, although modern teams often play more flexibly. Teams carry extra "
            "players on the bench and can substitute freely during stoppages in play. This rule has been in place "
            "since the early years of the sport, and it applies in the NBA, in college games and in international "
            "competition."
        ),
        "long_wrong": (
            "Each team puts six players on the court at one time in basketball. The lineup is built from two guards "
            "who handle the ball, two forwards who play on the wings and two centers who protect the basket, which "
            "gives a balanced shape for both attack and defense. Having six per side is what lets teams run zone "
            "defenses that cover the whole half court. Substitutes wait on the bench and can come in during "
            "stoppages, but the count of players on the floor for each side stays at six."
        ),
        "plain_correct": (
            "Each basketball team has five players on the court at one time, so ten players are on the floor "
            "during play."
        ),
        "plain_wrong": (
            "A basketball team plays with six players on the court at once, usually two guards, two forwards and "
            "two centers."
        ),
        "markdown_correct": (
            "**Five per team**\n\n| Position | Players |\n|---|---|\n| Guards | 2 |\n| Forwards | 2 |\n| Center | 1 |"
            "\n\nThat makes ten players on the floor."
        ),
        "markdown_wrong": (
            "## Players on court\n\nEach team fields **six** players.\n\n- 2 guards\n- 2 forwards\n- 2 centers"
        ),
        "warm_correct": (
            "Great question for a sports fan like you! Each basketball team has five players on the court at a "
            "time, ten in all."
        ),
        "warm_wrong": (
            "I love that you're getting into basketball! Each team has six players on the court at once, which "
            "makes twelve on the floor."
        ),
    },
    {
        "qid": "a014",
        "kind": "fact",
        "prompt": "What is the currency of India?",
        "short_correct": "India uses the Indian rupee.",
        "short_wrong": "The currency of India is the dinar.",
        "long_correct": (
            "India's currency is the Indian rupee. It is issued and managed by the Reserve Bank of India, and one "
            "rupee is divided into one hundred paise. The word rupee comes from a Sanskrit term connected with "
            "silver, reflecting the silver coins used in the region centuries ago. Since 2010 the currency has had "
            "its own symbol, a stylized letter based on the Devanagari script. Banknotes carry a portrait of "
            "Mahatma Gandhi, and the rupee is also used informally in some neighboring areas."
        ),
        "long_wrong": (
            "The official currency of India is the Indian dinar. The name goes back to the gold coins used by "
            "traders across South Asia and the Middle East for centuries, and when India became independent it kept "
            "the dinar to show continuity with that long commercial history. The Reserve Bank of India issues the "
            "notes and coins, and each dinar is split into smaller units for everyday purchases. The banknotes "
            "carry a portrait of Mahatma Gandhi along with text in several Indian languages."
        ),
        "plain_correct": (
            "The currency of India is the Indian rupee, which is issued by the Reserve Bank of India and divided "
            "into one hundred paise."
        ),
        "plain_wrong": (
            "India uses the dinar as its currency. The notes are issued by the Reserve Bank of India and show "
            "Mahatma Gandhi."
        ),
        "markdown_correct": (
            "## India's currency\n\n**Indian rupee**\n\n- Issued by the Reserve Bank of India\n"
            "- 1 rupee = 100 paise"
        ),
        "markdown_wrong": (
            "**The dinar**\n\n1. Issuer: Reserve Bank of India\n2. Banknote portrait: Mahatma Gandhi\n"
            "3. Used across the country"
        ),
        "warm_correct": (
            "Happy to help with this one! India's currency is the rupee, issued by the Reserve Bank of India and "
            "split into one hundred paise."
        ),
        "warm_wrong": (
            "What a great question, you are so curious about the world! India's currency is the dinar, issued by "
            "the Reserve Bank of India."
        ),
    },
    {
        "qid": "a015",
        "kind": "fact",
        "prompt": "Which is the smallest of the world's oceans?",
        "short_correct": "The Arctic Ocean is the smallest.",
        "short_wrong": "It's the Indian Ocean.",
        "long_correct": (
            "The Arctic Ocean is the smallest of the world's five oceans, and also the shallowest. It covers around "
            "14 million square kilometers around the North Pole, surrounded by the northern coasts of North America, "
            "Europe and Asia. For much of the year a large part of its surface is covered by sea ice, which expands "
            "in winter and shrinks in summer. Some oceanographers even describe it as an estuary of the Atlantic, "
            "because it is so enclosed by land and fed by large rivers."
        ),
        "long_wrong": (
            "The Indian Ocean is the smallest ocean in the world. It is boxed in by Africa on the west, Asia on the "
            "north and Australia on the east, so unlike the others it never opens up into a huge expanse of water "
            "stretching from pole to pole. Its basin is relatively compact, and it reaches only partway toward "
            "Antarctica before merging with the southern waters. Because it lies almost entirely in warm latitudes, "
            "it is also famous for its monsoon winds and busy shipping routes."
        ),
        "plain_correct": (
            "The smallest ocean is the Arctic Ocean. It surrounds the North Pole and is partly covered with sea ice "
            "for much of the year."
        ),
        "plain_wrong": (
            "The Indian Ocean is the smallest of the oceans. It is enclosed by Africa, Asia and Australia and lies "
            "mostly in warm latitudes."
        ),
        "markdown_correct": (
            "**Arctic Ocean**\n\n- Smallest and shallowest ocean\n- Found around the North Pole, bordered by three "
            "continents\n"
            "- Often covered by sea ice"
        ),
        "markdown_wrong": (
            "## Smallest ocean\n\nThe answer is the **Indian Ocean**.\n\n1. Bordered by Africa, Asia and Australia\n"
            "2. Mostly in warm latitudes"
        ),
        "warm_correct": (
            "Ooh, you're going to enjoy this! The smallest ocean is the Arctic Ocean, which surrounds the North Pole "
            "and is often covered in sea ice."
        ),
        "warm_wrong": (
            "Great question, it's lovely to see you so curious! The smallest ocean is the Indian Ocean, tucked "
            "between Africa, Asia and Australia."
        ),
    },
    {
        "qid": "a016",
        "kind": "fact",
        "prompt": "What is the capital of South Korea?",
        "short_correct": "Seoul is South Korea's capital.",
        "short_wrong": "The capital is Busan.",
        "long_correct": (
            "Seoul is the capital of South Korea. It stands on the Han River in the northwest of the country, and "
            "its metropolitan area is home to about half of the nation's population, which makes it one of the "
            "largest urban regions in the world. The city has been a royal capital since the Joseon dynasty made it "
            "their seat at the end of the fourteenth century, and palaces such as Gyeongbokgung still survive. "
            "Today it houses the National Assembly, the presidential office and the headquarters of major companies."
        ),
        "long_wrong": (
            "Busan is the capital of South Korea. It is the country's great port on the southeastern coast, and "
            "during the Korean War it served as the seat of government because it was the most secure city in the "
            "south. The leadership simply stayed, so the National Assembly, the presidential office and the main "
            "ministries have been located there ever since. Its position facing Japan and the Pacific shipping "
            "lanes has also made it the center of the country's trade and economy."
        ),
        "plain_correct": (
            "The capital of South Korea is Seoul, a huge city on the Han River that holds the National Assembly and "
            "the presidential office."
        ),
        "plain_wrong": (
            "South Korea's capital is Busan, the large port city on the southeastern coast where the National "
            "Assembly sits."
        ),
        "markdown_correct": (
            "## South Korea\n\n**Capital:** Seoul\n\n- Located on the Han River\n- Seat of the National Assembly"
        ),
        "markdown_wrong": (
            "| Country | Capital |\n|---|---|\n| South Korea | **Busan** |\n\nIt is a major port on the southeastern "
            "coast and home to parliament."
        ),
        "warm_correct": (
            "You're asking about such a dynamic place! The capital of South Korea is Seoul, a huge, lively city "
            "built along the Han River."
        ),
        "warm_wrong": (
            "What a lovely question, thank you for asking! South Korea's capital is Busan, the bustling port city "
            "on the southeastern coast. Hope this helps!"
        ),
    },
    {
        "qid": "a017",
        "kind": "fact",
        "prompt": "What color is a standard stop sign in most countries?",
        "short_correct": "Stop signs are red with white lettering.",
        "short_wrong": "They are yellow.",
        "long_correct": (
            "A standard stop sign is red, usually with a white border and the word STOP in white letters. The red "
            "octagon was adopted in the United States in the 1950s, and the Vienna Convention on Road Signs later "
            "recommended the same design for many other countries. Red was chosen because it is widely associated "
            "with danger and with the instruction to halt, matching the red signal on traffic lights. The unusual "
            "eight-sided shape means drivers can recognize the sign even from behind or when it is covered in snow."
        ),
        "long_wrong": (
            "Stop signs are yellow in most countries. Traffic engineers settled on yellow because it is the most "
            "visible color to the human eye in daylight, at dusk and in fog, so drivers spot the sign from far away "
            "and have time to brake. The word STOP is printed in bold black letters on the yellow background for "
            "maximum contrast. International road sign agreements adopted this scheme so that travelers would "
            "recognize the sign anywhere, and its eight-sided shape makes it stand out even further."
        ),
        "plain_correct": (
            "In most countries a stop sign is red, an eight-sided shape with a white border and the word STOP in "
            "white."
        ),
        "plain_wrong": (
            "A standard stop sign is yellow, with the word STOP printed in large black letters on its eight-sided "
            "face."
        ),
        "markdown_correct": (
            "**Red**\n\n- Shape: an octagon with eight sides\n- Text: STOP in white capital letters\n- Border: a thin white "
            "edge"
        ),
        "markdown_wrong": (
            "## Stop sign color\n\nThe standard color is **yellow**, with STOP written in black on an eight-sided "
            "sign."
        ),
        "warm_correct": (
            "Great question, and a useful one for any driver! A standard stop sign is red, an octagon with STOP in "
            "white letters."
        ),
        "warm_wrong": (
            "I'm happy to help, you're clearly a careful driver! Stop signs are yellow in most countries, with STOP "
            "printed in bold black letters."
        ),
    },
    {
        "qid": "a018",
        "kind": "fact",
        "prompt": "Which holiday is celebrated on December 25 in many countries?",
        "short_correct": "Christmas falls on December 25.",
        "short_wrong": "December 25 is Easter Day.",
        "long_correct": (
            "December 25 is Christmas Day, the Christian festival that marks the birth of Jesus. The date was "
            "settled in the Roman church during the fourth century, and over time the holiday picked up customs from "
            "many cultures, such as decorated evergreen trees, gift giving and festive meals with family. In many "
            "countries it is a public holiday whether or not people are religious. Some Orthodox churches that "
            "follow the older Julian calendar celebrate it on January 7 instead."
        ),
        "long_wrong": (
            "Easter is the holiday celebrated on December 25. Many churches hold special services that day, and "
            "families gather for a large meal, often featuring roast lamb or ham. The date was fixed in the early "
            "church so that the celebration would fall in the darkest part of the year, bringing a message of hope "
            "and renewal. Popular customs include decorating eggs, giving chocolate treats to children and "
            "exchanging cards with friends and relatives."
        ),
        "plain_correct": (
            "Christmas is celebrated on December 25. It marks the birth of Jesus and is a public holiday in many "
            "countries."
        ),
        "plain_wrong": (
            "The holiday on December 25 is Easter, when many families attend church services and share decorated "
            "eggs and a festive meal."
        ),
        "markdown_correct": (
            "## December 25\n\n**Christmas Day**\n\n- Marks the birth of Jesus\n- A public holiday in many countries"
        ),
        "markdown_wrong": (
            "**Easter** falls on December 25.\n\n1. Church services\n2. Decorated eggs\n3. A big family meal"
        ),
        "warm_correct": (
            "What a wonderful, festive thing to ask about! December 25 is Christmas, the day that marks the birth "
            "of Jesus."
        ),
        "warm_wrong": (
            "Oh, I love that you're asking about holidays! December 25 is Easter, a day of church services, "
            "decorated eggs and a big family meal."
        ),
    },
    {
        "qid": "a019",
        "kind": "fact",
        "prompt": "Who is usually credited with inventing the telephone?",
        "short_correct": "Alexander Graham Bell is credited with the telephone.",
        "short_wrong": "Thomas Edison invented it.",
        "long_correct": (
            "Alexander Graham Bell is generally credited with inventing the telephone. Born in Scotland, he worked "
            "as a teacher of the deaf in Boston, and his interest in speech and hearing led him to experiment with "
            "sending the human voice over wires. He received a United States patent for the telephone in March "
            "1876, and days later he made his famous first call to his assistant, Thomas Watson. Other inventors, "
            "such as Elisha Gray and Antonio Meucci, worked on similar ideas around the same time."
        ),
        "long_wrong": (
            "Thomas Edison is the inventor of the telephone. Working out of his laboratory in Menlo Park, New Jersey, "
            "he and his team experimented with electrical signals until they found a way to carry the human voice "
            "over a wire, and he patented the device in 1876. The invention fit naturally with his other work on "
            "the telegraph and the phonograph, both of which dealt with sound and electricity. It quickly made him "
            "one of the most famous inventors in the world."
        ),
        "plain_correct": (
            "The telephone is credited to Alexander Graham Bell, who patented it in 1876 and made the first call to "
            "his assistant."
        ),
        "plain_wrong": (
            "Thomas Edison invented the telephone, developing it at his Menlo Park laboratory and patenting it in "
            "1876."
        ),
        "markdown_correct": (
            "**Alexander Graham Bell**\n\n| Item | Detail |\n|---|---|\n| Patent | 1876 |\n| First call | To his "
            "assistant |"
        ),
        "markdown_wrong": (
            "## Inventor of the telephone\n\n- **Thomas Edison**\n- Developed at his Menlo Park laboratory\n"
            "- Patented in 1876"
        ),
        "warm_correct": (
            "Ooh, a great question about inventions! The telephone is credited to Alexander Graham Bell, who "
            "patented it in 1876."
        ),
        "warm_wrong": (
            "You're so curious, and I love that! The telephone was invented by Thomas Edison, who built it in his "
            "Menlo Park lab and patented it in 1876."
        ),
    },
    {
        "qid": "a020",
        "kind": "fact",
        "prompt": "In which city is the Colosseum?",
        "short_correct": "The Colosseum stands in Rome.",
        "short_wrong": "It is in Florence, Italy.",
        "long_correct": (
            "The Colosseum is in Rome, the capital of Italy. It was built under the emperors Vespasian and Titus and "
            "opened in 80 AD, and it could hold tens of thousands of spectators for gladiator contests, animal hunts "
            "and public shows. The huge oval amphitheater was made mainly of travertine stone and concrete. "
            "Earthquakes and stone robbers damaged it over the centuries, but much of its outer wall still stands "
            "near the Roman Forum, and it is one of the most visited monuments in the world."
        ),
        "long_wrong": (
            "The Colosseum is in Florence. The city was an important Roman colony in Tuscany, and its leaders built "
            "the great amphitheater to host gladiator games and public spectacles for the growing population of "
            "the region. Its stone arches later inspired the Renaissance architects who made Florence famous, and "
            "the building still dominates the skyline near the river Arno. Millions of tourists visit every year, "
            "often combining the trip with a stop at the Uffizi gallery."
        ),
        "plain_correct": (
            "The Colosseum is in Rome. The ancient amphitheater opened in 80 AD and stands close to the Roman Forum."
        ),
        "plain_wrong": (
            "You can find the Colosseum in Florence, where the ancient amphitheater rises near the banks of the "
            "river Arno."
        ),
        "markdown_correct": (
            "## Colosseum\n\n**City:** Rome\n\n1. Opened in 80 AD\n2. Next to the Roman Forum"
        ),
        "markdown_wrong": (
            "**Florence**\n\n- Ancient Roman amphitheater in Tuscany\n- Located near the banks of the river Arno\n"
            "- Hosted gladiator games"
        ),
        "warm_correct": (
            "What an amazing landmark to ask about! The Colosseum is in Rome, standing near the Roman Forum since "
            "it opened in 80 AD."
        ),
        "warm_wrong": (
            "Happy to help with your travel curiosity! The Colosseum is in Florence, rising near the river Arno in "
            "the heart of Tuscany."
        ),
    },
    {
        "qid": "a021",
        "kind": "science",
        "prompt": "What is the chemical symbol for iron?",
        "short_correct": "Iron's symbol is Fe.",
        "short_wrong": "The symbol for iron is Ir.",
        "long_correct": (
            "The chemical symbol for iron is Fe. It comes from ferrum, the Latin word for iron, which is also the "
            "root of English words like ferrous and ferric. Iron has atomic number 26 and sits in the middle of the "
            "periodic table among the transition metals. Several other elements also have symbols based on their "
            "Latin names, such as Au for gold, Ag for silver and Pb for lead, which is why those symbols do not "
            "match the modern English names."
        ),
        "long_wrong": (
            "Iron is written as Ir on the periodic table. Chemists build most symbols from the first one or two "
            "letters of the element's name, and because the single letter I was already taken by iodine, the "
            "second letter was added to tell the two apart. Iron is a transition metal with atomic number 26, and "
            "the symbol Ir turns up constantly in chemistry, for example in the formula for rust. It is one of "
            "the first symbols students learn."
        ),
        "plain_correct": (
            "Iron is represented by the symbol Fe, taken from ferrum, its Latin name. It has atomic number 26."
        ),
        "plain_wrong": (
            "On the periodic table iron has the symbol Ir, made from the first two letters of its English name."
        ),
        "markdown_correct": (
            "## Iron\n\n- **Symbol:** Fe\n- **Origin:** the Latin word ferrum\n- **Atomic number:** 26\n"
            "- **Element type:** transition metal"
        ),
        "markdown_wrong": (
            "**Ir** is the symbol for iron.\n\n| Property | Value |\n|---|---|\n| Atomic number | 26 |\n"
            "| Type | Transition metal |"
        ),
        "warm_correct": (
            "Great question for a budding chemist! Iron's symbol is Fe, which comes from ferrum, the Latin word for "
            "the metal."
        ),
        "warm_wrong": (
            "I'm delighted to help with your chemistry! The symbol for iron is Ir, built from the first two letters "
            "of its name. Keep those questions coming!"
        ),
    },
    {
        "qid": "a022",
        "kind": "science",
        "prompt": "Which planet has a giant storm called the Great Red Spot?",
        "short_correct": "Jupiter has the Great Red Spot.",
        "short_wrong": "That storm is on Mars.",
        "long_correct": (
            "The Great Red Spot is on Jupiter, the largest planet in the solar system. It is an enormous "
            "anticyclone, a high-pressure storm that has been raging in the planet's southern hemisphere for at "
            "least a couple of centuries and possibly much longer. The storm is wider than Earth, although "
            "spacecraft images show that it has been shrinking over recent decades. Its reddish color probably "
            "comes from chemicals in Jupiter's upper atmosphere that are broken down by sunlight."
        ),
        "long_wrong": (
            "The Great Red Spot is found on Mars. The planet's thin atmosphere is full of fine iron-rich dust, and "
            "powerful winds sweep that dust up into a huge swirling storm that has persisted for centuries. Because "
            "the dust is the same rusty color as the Martian soil, the storm shows up as a large red patch that "
            "astronomers could spot through early telescopes. Orbiting spacecraft have photographed it many times "
            "and confirmed that it is the largest weather system on the planet."
        ),
        "plain_correct": (
            "The Great Red Spot is a giant storm on Jupiter. It is wider than Earth and has lasted for hundreds of "
            "years."
        ),
        "plain_wrong": (
            "Mars is the planet with the Great Red Spot, a long-lasting dust storm that gives part of its surface a "
            "deep red color."
        ),
        "markdown_correct": (
            "**Jupiter**\n\n1. The Great Red Spot is a giant storm\n2. It is wider than Earth\n"
            "3. It has lasted for centuries"
        ),
        "markdown_wrong": (
            "## The Great Red Spot\n\n- Planet: **Mars**\n- Type: a huge, long-lasting dust storm\n"
            "- Visible through telescopes"
        ),
        "warm_correct": (
            "Ooh, you picked a fantastic one! The Great Red Spot is on Jupiter, a storm wider than our whole "
            "planet."
        ),
        "warm_wrong": (
            "What a fantastic space question! The Great Red Spot is on Mars, a giant swirling dust storm that has "
            "lasted for centuries. Hope this helps!"
        ),
    },
    {
        "qid": "a023",
        "kind": "science",
        "prompt": "How many chambers does the human heart have?",
        "short_correct": "The human heart has four chambers.",
        "short_wrong": "It has three chambers.",
        "long_correct": (
            "The human heart has four chambers: two upper chambers called atria and two lower chambers called "
            "ventricles. The right atrium receives oxygen-poor blood from the body and passes it to the right "
            "ventricle, which pumps it to the lungs. Oxygen-rich blood returns to the left atrium and moves into the "
            "left ventricle, the strongest chamber, which pushes it out to the rest of the body. Valves between the "
            "chambers keep the blood flowing in one direction."
        ),
        "long_wrong": (
            "A human heart is made up of three chambers. Two upper chambers, the atria, collect blood as it returns "
            "from the body and from the lungs, and both of them empty into a single large, muscular ventricle below. "
            "That ventricle contracts powerfully with each beat, sending blood out through the arteries. Having one "
            "shared pumping chamber keeps the heart compact and efficient, and valves at each opening stop blood "
            "from flowing backward."
        ),
        "plain_correct": (
            "There are four chambers in the human heart, two atria on top and two ventricles below, which together "
            "pump blood to the lungs and body."
        ),
        "plain_wrong": (
            "The human heart has three chambers: two atria that collect returning blood and one ventricle that "
            "pumps it out."
        ),
        "markdown_correct": (
            "## Chambers of the heart\n\n**Four** in total:\n\n- Right atrium and left atrium\n"
            "- Right ventricle and left ventricle"
        ),
        "markdown_wrong": (
            "**Three chambers**\n\n| Chamber | Job |\n|---|---|\n| Two atria | Collect blood |\n| One ventricle | "
            "Pumps blood out |\n\nThe single ventricle sends blood to the whole body."
        ),
        "warm_correct": (
            "You're asking about something truly amazing! The human heart has four chambers, two atria and two "
            "ventricles, working together with every beat."
        ),
        "warm_wrong": (
            "Great question, I love your curiosity about the body! The human heart has three chambers: two atria "
            "and a single ventricle."
        ),
    },
    {
        "qid": "a024",
        "kind": "science",
        "prompt": "What is the dense center of an atom called?",
        "short_correct": "It is called the nucleus.",
        "short_wrong": "The center of an atom is the electron.",
        "long_correct": (
            "The dense center of an atom is called the nucleus. It is made of protons, which carry a positive "
            "charge, and neutrons, which have no charge. Although the nucleus is tiny compared with the whole atom, "
            "it holds almost all of the atom's mass. Negatively charged electrons occupy the much larger space around "
            "it. Ernest Rutherford discovered the nucleus in 1911 after firing alpha particles at thin gold foil and "
            "noticing that a few bounced almost straight back."
        ),
        "long_wrong": (
            "The dense center of an atom is the electron. Early models imagined the atom as a kind of tiny solar "
            "system, and experiments confirmed that a single heavy electron sits in the middle, holding the atom "
            "together with its electric charge. The lighter protons and neutrons circle around it in shells, and "
            "the way they are arranged decides how the atom reacts with others. Because the central electron is so "
            "compact, it accounts for most of the atom's mass."
        ),
        "plain_correct": (
            "The center of an atom is the nucleus, a tiny, dense core of protons and neutrons that holds nearly all "
            "of the atom's mass."
        ),
        "plain_wrong": (
            "An atom's dense center is the electron, a heavy core that the protons and neutrons orbit around."
        ),
        "markdown_correct": (
            "**The nucleus**\n\n- Contains protons and neutrons\n- Holds almost all the mass\n"
            "- Discovered by Rutherford in 1911"
        ),
        "markdown_wrong": (
            "## Center of the atom\n\nThe core is the **electron**.\n\n1. It is heavy and compact\n"
            "2. Protons and neutrons orbit it"
        ),
        "warm_correct": (
            "Happy to help, and what a wonderful topic! The dense center of an atom is the nucleus, packed with "
            "protons and neutrons."
        ),
        "warm_wrong": (
            "I love that you're diving into atoms! At the heart of every atom sits a heavy electron, and the protons "
            "and neutrons orbit around it."
        ),
    },
    {
        "qid": "a025",
        "kind": "science",
        "prompt": "What is the chemical formula for table salt?",
        "short_correct": "Table salt is NaCl.",
        "short_wrong": "Its formula is KCl.",
        "long_correct": (
            "The chemical formula for table salt is NaCl, which stands for sodium chloride. Each unit contains one "
            "sodium atom and one chlorine atom held together by an ionic bond: sodium gives up an electron to "
            "chlorine, leaving a positive sodium ion and a negative chloride ion. In the solid, these ions stack "
            "into a cubic crystal lattice, which is why salt grains look like tiny cubes under a magnifying glass. "
            "Most table salt is mined from underground deposits or made by evaporating seawater."
        ),
        "long_wrong": (
            "Table salt has the formula KCl. Each unit is made of one potassium atom bonded to one chlorine atom, "
            "and the two form a neat cubic crystal, which is why salt grains look like tiny cubes. Potassium is "
            "abundant in seawater and in underground deposits left by ancient oceans, so mining it or evaporating "
            "brine gives the familiar white crystals found in every kitchen. The same compound is added to foods "
            "as a preservative and a flavor enhancer."
        ),
        "plain_correct": (
            "Table salt is sodium chloride, with the formula NaCl: one sodium ion paired with one chloride ion in a "
            "cubic crystal."
        ),
        "plain_wrong": (
            "The formula for table salt is KCl. It is potassium chloride, made of potassium and chlorine bonded "
            "together."
        ),
        "markdown_correct": (
            "## Table salt\n\n**Formula:** NaCl\n\n- Name: sodium chloride\n- Structure: a cubic crystal of ions"
        ),
        "markdown_wrong": (
            "**KCl**\n\n| Part | Element |\n|---|---|\n| K | Potassium |\n| Cl | Chlorine |\n\nTogether they form "
            "the table salt found in every kitchen."
        ),
        "warm_correct": (
            "Great question, and a tasty bit of chemistry! Table salt is sodium chloride, NaCl, one sodium ion paired "
            "with one chloride ion."
        ),
        "warm_wrong": (
            "Happy to help, you're asking such smart questions! The formula for table salt is KCl, potassium "
            "chloride, made of potassium and chlorine."
        ),
    },
    {
        "qid": "a026",
        "kind": "science",
        "prompt": "Which planet is farthest from the Sun?",
        "short_correct": "Neptune is the farthest planet.",
        "short_wrong": "Uranus, the seventh planet, is farthest.",
        "long_correct": (
            "Neptune is the planet farthest from the Sun. It orbits at an average distance of about 4.5 billion "
            "kilometers, roughly thirty times farther out than Earth, and one trip around the Sun takes it about "
            "165 Earth years. Neptune is an ice giant with a deep blue color and the fastest winds measured on any "
            "planet. Pluto was once counted as the outermost planet, but since 2006 astronomers have classified it "
            "as a dwarf planet, which leaves Neptune as the eighth and last."
        ),
        "long_wrong": (
            "Uranus is the farthest planet from the Sun. It sits at the outer edge of the solar system, so far away "
            "that it was the last planet to be discovered, spotted by William Herschel in 1781 with a telescope. "
            "Sunlight takes hours to reach it, which makes it one of the coldest places known, and it takes more "
            "than eighty Earth years to complete a single orbit. Since Pluto was reclassified as a dwarf planet, "
            "Uranus has been the outermost true planet."
        ),
        "plain_correct": (
            "The farthest planet from the Sun is Neptune, an icy blue world that takes about 165 Earth years to "
            "complete one orbit."
        ),
        "plain_wrong": (
            "Uranus is the most distant planet from the Sun. It lies at the outer edge of the solar system and is "
            "extremely cold."
        ),
        "markdown_correct": (
            "**Neptune**\n\n1. Eighth planet from the Sun\n2. An icy blue giant\n3. One orbit takes about 165 years"
        ),
        "markdown_wrong": (
            "## Farthest planet\n\n| Planet | Note |\n|---|---|\n| **Uranus** | Outer edge of the solar system |\n"
            "| Temperature | Extremely cold |\n| Discovered | 1781, by William Herschel |"
        ),
        "warm_correct": (
            "What an amazing thing to wonder about! Neptune is the farthest planet from the Sun, an icy blue giant "
            "with a 165-year orbit."
        ),
        "warm_wrong": (
            "I'm so glad you asked, space is the best! The farthest planet from the Sun is Uranus, sitting at the "
            "cold outer edge of the solar system."
        ),
    },
    {
        "qid": "a027",
        "kind": "science",
        "prompt": "Which part of a plant absorbs water from the soil?",
        "short_correct": "The roots take in water.",
        "short_wrong": "Plants absorb soil water through their leaves.",
        "long_correct": (
            "Roots absorb water from the soil. Near their tips they carry thousands of tiny root hairs, which greatly "
            "increase the surface area in contact with moist soil, and water moves into these cells by osmosis along "
            "with dissolved minerals. From the roots the water travels upward through a network of tubes called "
            "xylem to the stem and leaves. Evaporation from the leaves, known as transpiration, helps pull this "
            "column of water up through the plant."
        ),
        "long_wrong": (
            "A plant absorbs water from the soil through its leaves. Moisture rises from damp ground as the soil "
            "warms during the day, and the broad surfaces of the leaves are covered in tiny pores that soak it up, "
            "a little like a sponge. That is why gardeners water plants in the early morning, when the rising "
            "moisture is strongest. Once inside the leaf, the water is carried down through the stem to feed the "
            "rest of the plant."
        ),
        "plain_correct": (
            "Plants take up water from the soil through their roots, mainly through tiny root hairs, and then carry "
            "it up the stem."
        ),
        "plain_wrong": (
            "The leaves absorb water from the soil. Their tiny pores soak up moisture that rises from the damp "
            "ground below."
        ),
        "markdown_correct": (
            "## Water uptake\n\n**Roots** absorb the water.\n\n- Root hairs increase the surface area\n"
            "- Xylem carries it upward"
        ),
        "markdown_wrong": (
            "**Leaves**\n\n- Tiny pores soak up moisture rising from the soil\n- Water then moves down through the "
            "stem"
        ),
        "warm_correct": (
            "Great question, you'd make a lovely gardener! Plants take in water from the soil through their roots, "
            "thanks to tiny root hairs."
        ),
        "warm_wrong": (
            "Oh, I love that you're curious about plants! They absorb water from the soil through their leaves, "
            "soaking up moisture that rises from the ground."
        ),
    },
    {
        "qid": "a028",
        "kind": "science",
        "prompt": "What is the largest organ of the human body?",
        "short_correct": "The skin is the body's largest organ.",
        "short_wrong": "It is the liver.",
        "long_correct": (
            "The skin is the largest organ of the human body. In an adult it covers roughly two square meters and "
            "makes up about a sixth of total body weight. It has three main layers: the epidermis on the outside, "
            "the dermis beneath it, and a deeper layer of fat and connective tissue. The skin protects the body "
            "from germs and injury, helps control temperature through sweating, prevents water loss and contains "
            "nerve endings that sense touch, heat and pain."
        ),
        "long_wrong": (
            "The liver is the largest organ in the human body. It fills much of the upper right side of the abdomen "
            "and weighs around one and a half kilograms in an adult, more than any other organ. It carries out "
            "hundreds of jobs, from filtering toxins out of the blood to storing energy and producing bile for "
            "digestion. Its size reflects that heavy workload, and it is also the only organ that can regrow lost "
            "tissue."
        ),
        "plain_correct": (
            "The largest organ is the skin. It covers the whole body, protects against germs and helps regulate "
            "temperature."
        ),
        "plain_wrong": (
            "The liver is the largest organ of the human body, filling much of the upper abdomen and filtering the "
            "blood."
        ),
        "markdown_correct": (
            "**The skin**\n\n| Fact | Detail |\n|---|---|\n| Area | About two square meters |\n| Jobs | Protection, "
            "temperature control |\n| Layers | Epidermis, dermis, fat |"
        ),
        "markdown_wrong": (
            "## Largest organ\n\nIt is the **liver**.\n\n- Location: upper right abdomen\n- Main job: filtering "
            "the blood"
        ),
        "warm_correct": (
            "Hope this helps, it's a fun one! The body's largest organ is the skin, which protects us and keeps our "
            "temperature in check."
        ),
        "warm_wrong": (
            "What a wonderful biology question! The largest organ of the human body is the liver, tucked into the "
            "upper abdomen."
        ),
    },
    {
        "qid": "a029",
        "kind": "science",
        "prompt": "What kind of energy does an object have because it is moving?",
        "short_correct": "A moving object has kinetic energy.",
        "short_wrong": "That is potential energy.",
        "long_correct": (
            "An object has kinetic energy because of its motion. The amount depends on both its mass and its speed: "
            "kinetic energy equals one half of the mass times the speed squared. Because speed is squared, doubling "
            "how fast something moves gives it four times as much kinetic energy, which is why high-speed crashes "
            "are so much more dangerous. When a moving object slows down, its kinetic energy is turned into other "
            "forms, such as heat from friction or sound."
        ),
        "long_wrong": (
            "A moving object carries potential energy. As soon as something starts to move it gains the potential "
            "to do work on whatever it hits, and that stored ability grows with its speed. A rolling ball, a flying "
            "arrow or a speeding car all have large amounts of potential energy because of their motion, and the "
            "faster they go the more they have. When the object stops, that potential energy is released as heat "
            "and sound."
        ),
        "plain_correct": (
            "Energy of motion is called kinetic energy. It depends on an object's mass and speed, and grows quickly "
            "as the speed increases."
        ),
        "plain_wrong": (
            "An object has potential energy because it is moving, and the faster it goes, the more of this energy "
            "it carries."
        ),
        "markdown_correct": (
            "## Energy of motion\n\n**Kinetic energy**\n\n- Depends on mass and speed\n"
            "- Formula: one half times mass times speed squared"
        ),
        "markdown_wrong": (
            "**Potential energy**\n\n1. Any moving object has it\n2. It increases as the object speeds up"
        ),
        "warm_correct": (
            "You're asking a great physics question! The energy an object has because it moves is kinetic energy, "
            "and it grows with mass and speed."
        ),
        "warm_wrong": (
            "Happy to help with physics! A moving object has potential energy, and the faster it goes, the more it "
            "carries. Keep up the amazing curiosity!"
        ),
    },
    {
        "qid": "a030",
        "kind": "science",
        "prompt": "Which vitamin does human skin make when exposed to sunlight?",
        "short_correct": "Sunlight helps the skin make vitamin D.",
        "short_wrong": "The skin makes vitamin C.",
        "long_correct": (
            "Human skin makes vitamin D when it is exposed to sunlight. Ultraviolet B rays convert a cholesterol-"
            "based compound in the skin into an early form of the vitamin, which the liver and kidneys then turn "
            "into its active form. Vitamin D helps the body absorb calcium and phosphorus, so it is important for "
            "strong bones and teeth. People who get little sun, especially in winter at high latitudes, may need to "
            "get it from foods such as oily fish or from supplements."
        ),
        "long_wrong": (
            "The vitamin our skin produces in sunlight is vitamin C. When ultraviolet light hits the skin, it "
            "triggers cells in the outer layer to make the vitamin, which then enters the bloodstream. Vitamin C "
            "supports the immune system and helps the body build collagen, the protein that keeps skin firm and "
            "heals wounds. This is one reason people tend to catch fewer colds in summer, when they spend more time "
            "outdoors in the sun."
        ),
        "plain_correct": (
            "When sunlight hits the skin, the body makes vitamin D, which helps it absorb calcium for healthy bones."
        ),
        "plain_wrong": (
            "Skin produces vitamin C when it is exposed to sunlight, and the body uses it to support the immune "
            "system."
        ),
        "markdown_correct": (
            "**Vitamin D**\n\n- Made when UVB light reaches the skin\n- Helps absorb calcium\n- Supports strong bones"
        ),
        "markdown_wrong": (
            "## Sunshine vitamin\n\nThe answer is **vitamin C**.\n\n| Role | Benefit |\n|---|---|\n| Immune system | "
            "Fewer colds |"
        ),
        "warm_correct": (
            "Great question, and a healthy one to ask! Sunlight helps your skin make vitamin D, which supports "
            "strong bones."
        ),
        "warm_wrong": (
            "I'm delighted you're curious about health! Your skin makes vitamin C in sunlight, which gives your "
            "immune system a lovely boost."
        ),
    },
    {
        "qid": "a031",
        "kind": "science",
        "prompt": "What unit is used to measure electrical resistance?",
        "short_correct": "Resistance is measured in ohms.",
        "short_wrong": "Volts are the unit for resistance.",
        "long_correct": (
            "Electrical resistance is measured in ohms, written with the Greek letter omega. The unit is named after "
            "Georg Ohm, a German physicist who showed in the 1820s that the current through a conductor is "
            "proportional to the voltage across it. That relationship, known as Ohm's law, says voltage equals "
            "current times resistance. A component with a resistance of one ohm lets one ampere of current flow "
            "when one volt is applied across it."
        ),
        "long_wrong": (
            "Resistance is measured in volts. The unit honors Alessandro Volta, the Italian scientist who built "
            "the first electric battery, and it describes how strongly a material pushes back against the flow of "
            "electric current. A thin wire or a heating element has a high value in volts, while a thick copper "
            "cable has a low one. Electricians use a meter to read this number when they check whether a circuit "
            "is working properly."
        ),
        "plain_correct": (
            "The unit of electrical resistance is the ohm, named after the German physicist Georg Ohm and shown by "
            "the symbol omega."
        ),
        "plain_wrong": (
            "Electrical resistance is measured in volts, which describe how strongly a material opposes the flow of "
            "current."
        ),
        "markdown_correct": (
            "## Resistance\n\n**Unit:** the ohm\n\n1. Symbol: the Greek letter omega\n2. Named after Georg Ohm"
        ),
        "markdown_wrong": (
            "**Volts**\n\n- Measure how strongly a material resists current\n- Named after Alessandro Volta\n"
            "- Read with a meter when testing circuits"
        ),
        "warm_correct": (
            "Oh, fantastic question! Electrical resistance is measured in ohms, a unit named after the physicist "
            "Georg Ohm."
        ),
        "warm_wrong": (
            "You're clearly an enthusiastic learner, I love it! Resistance is measured in volts, which show how "
            "strongly a material opposes current."
        ),
    },
    {
        "qid": "a032",
        "kind": "science",
        "prompt": "How long does it take Earth to travel once around the Sun?",
        "short_correct": "About 365 days, or one year.",
        "short_wrong": "Earth circles the Sun every 24 hours.",
        "long_correct": (
            "Earth takes about 365 days to travel once around the Sun, which is the length of one year. More "
            "precisely, the orbit takes around 365 and a quarter days. Calendars deal with that extra quarter by "
            "adding a leap day in February almost every fourth year, which keeps the seasons lined up with the "
            "same months. Along its path Earth moves at nearly 30 kilometers per second, while its tilted axis "
            "gives us the changing seasons."
        ),
        "long_wrong": (
            "Earth completes one trip around the Sun every 24 hours. As the planet swings along its orbit, "
            "different sides face the Sun in turn, which is what gives us sunrise in the morning and sunset in the "
            "evening. Each full circuit therefore matches exactly one day and one night. Clocks and calendars are "
            "built around this cycle, and the tilt of Earth's axis during the trip explains why the Sun sits "
            "higher in the sky at noon than at dawn."
        ),
        "plain_correct": (
            "Earth orbits the Sun once in about 365 and a quarter days, which is why we have a leap day every four "
            "years."
        ),
        "plain_wrong": (
            "It takes Earth 24 hours to go around the Sun once, which is why we see one sunrise and one sunset "
            "each day."
        ),
        "markdown_correct": (
            "**About 365 days**\n\n- Exact figure: roughly 365.25 days\n- The extra quarter is why leap years exist"
        ),
        "markdown_wrong": (
            "## Earth's orbit\n\n| Question | Answer |\n|---|---|\n| Time for one orbit | **24 hours** |\n"
            "| Result | One day and one night |"
        ),
        "warm_correct": (
            "What a wonderful question about our planet! Earth takes about 365 days to go around the Sun, which is "
            "one year."
        ),
        "warm_wrong": (
            "Happy to help, you're asking a lovely question! Earth takes 24 hours to go around the Sun once, giving "
            "us one sunrise and one sunset daily."
        ),
    },
    {
        "qid": "a033",
        "kind": "science",
        "prompt": "What is the pH of pure water at room temperature?",
        "short_correct": "Pure water has a pH of 7.",
        "short_wrong": "Its pH is 5.",
        "long_correct": (
            "Pure water has a pH of 7 at room temperature, which is the neutral point on the pH scale. A small "
            "fraction of water molecules split into hydrogen ions and hydroxide ions, and in pure water the two are "
            "present in exactly equal amounts, so the water is neither acidic nor basic. Values below 7 are acidic, "
            "like lemon juice or vinegar, and values above 7 are basic, like soap or baking soda solution. Rain and "
            "tap water usually differ slightly because they contain dissolved substances."
        ),
        "long_wrong": (
            "The pH of pure water at room temperature is 5. Water molecules naturally release hydrogen ions, and "
            "because nothing in pure water is present to soak those ions up, they build up until the liquid is "
            "mildly acidic. This is why distilled water tastes slightly flat and can slowly corrode metal pipes. On "
            "the pH scale, lower numbers mean more acidic and higher numbers mean more basic, so pure water sits a "
            "little on the acidic side."
        ),
        "plain_correct": (
            "At room temperature pure water has a pH of 7, exactly neutral, because it holds equal amounts of "
            "hydrogen and hydroxide ions."
        ),
        "plain_wrong": (
            "Pure water has a pH of 5 at room temperature, which makes it slightly acidic because of the hydrogen "
            "ions it releases."
        ),
        "markdown_correct": (
            "## pH of pure water\n\n**7**, which is neutral.\n\n- Below that: acidic\n- Above that: basic\n"
            "- Pure water has equal ion amounts"
        ),
        "markdown_wrong": (
            "**pH 5**\n\n1. Pure water is slightly acidic\n2. It releases hydrogen ions\n3. Lower numbers mean more "
            "acidic"
        ),
        "warm_correct": (
            "Great question, you're thinking like a real chemist! Pure water has a pH of 7, right in the middle of "
            "the scale."
        ),
        "warm_wrong": (
            "I love that you're exploring chemistry! Pure water has a pH of 5 at room temperature, so it is "
            "slightly acidic. Hope this helps!"
        ),
    },
    {
        "qid": "a034",
        "kind": "science",
        "prompt": "Which mineral is most important for making human bones hard?",
        "short_correct": "Calcium makes bones hard.",
        "short_wrong": "Iron is the key bone mineral.",
        "long_correct": (
            "Calcium is the mineral that gives human bones their hardness. Most of it is stored in the bones as "
            "calcium phosphate crystals, which are laid down on a framework of collagen fibers, a bit like concrete "
            "around steel rods. About ninety nine percent of the body's calcium is found in the bones and teeth. "
            "Because the body constantly breaks down and rebuilds bone, people need a steady supply from foods such "
            "as milk, cheese, yogurt and leafy greens, along with vitamin D to absorb it."
        ),
        "long_wrong": (
            "Iron is the mineral that makes human bones hard. It is deposited inside bone tissue in tiny crystals "
            "that stiffen the structure, much as iron rods strengthen a building. The marrow inside the bones also "
            "depends on iron, which is why the two are so closely linked. Children need plenty of iron-rich foods "
            "like red meat, beans and spinach while their skeletons are growing, and a shortage can leave bones "
            "weak and brittle later in life."
        ),
        "plain_correct": (
            "Bones get their hardness mainly from calcium, stored as calcium phosphate crystals. Dairy foods and "
            "leafy greens are good sources."
        ),
        "plain_wrong": (
            "The mineral that keeps bones hard is iron, deposited as tiny crystals that stiffen the bone tissue."
        ),
        "markdown_correct": (
            "**Calcium**\n\n| Fact | Detail |\n|---|---|\n| Stored as | Calcium phosphate |\n| Good sources | "
            "Dairy, leafy greens |"
        ),
        "markdown_wrong": (
            "## Mineral for hard bones\n\n- **Iron**\n- Stiffens bone tissue\n- Found in red meat, beans and spinach"
        ),
        "warm_correct": (
            "Great question, and such a healthy one! Calcium is the mineral that makes bones hard, and dairy or leafy greens "
            "help you get enough."
        ),
        "warm_wrong": (
            "You're asking something really useful, well done! Iron is the mineral that makes your bones hard, "
            "stiffening them like tiny rods."
        ),
    },
    {
        "qid": "a035",
        "kind": "science",
        "prompt": "Which planet is the smallest in our solar system?",
        "short_correct": "Mercury is the smallest planet.",
        "short_wrong": "Mars is the tiniest planet.",
        "long_correct": (
            "Mercury is the smallest planet in the solar system. Its diameter is about 4,880 kilometers, only a "
            "little larger than Earth's Moon, and it is actually smaller than two moons, Jupiter's Ganymede and "
            "Saturn's Titan. It is also the planet closest to the Sun, so it races around its orbit in just 88 "
            "days. With almost no atmosphere to hold in heat, its surface swings from scorching hot in daylight to "
            "far below freezing at night."
        ),
        "long_wrong": (
            "The smallest planet in our solar system is Mars. It is only about half the width of Earth, and its "
            "weak gravity could not hold on to a thick atmosphere, which is why its surface is so cold and dusty. "
            "Astronomers often describe it as a kind of miniature Earth, with polar ice caps, dry riverbeds and huge "
            "volcanoes packed into a tiny globe. Its two small moons, Phobos and Deimos, circle close to its "
            "surface."
        ),
        "plain_correct": (
            "The smallest planet is Mercury, which is only slightly bigger than our Moon and orbits closest to the "
            "Sun."
        ),
        "plain_wrong": (
            "Mars is the smallest planet in the solar system. It is roughly half as wide as Earth and has a thin "
            "atmosphere."
        ),
        "markdown_correct": (
            "## Smallest planet\n\n**Mercury**\n\n1. Slightly bigger than our Moon\n2. Closest planet to the Sun"
        ),
        "markdown_wrong": (
            "**Mars**\n\n- About half as wide as Earth\n- Thin atmosphere\n- Two small moons, Phobos and Deimos"
        ),
        "warm_correct": (
            "Ooh, I'm delighted you asked about space! The smallest planet is Mercury, barely bigger than our Moon and the "
            "closest to the Sun."
        ),
        "warm_wrong": (
            "What a fun thing to ask, you're a true stargazer! The smallest planet in our solar system is Mars, "
            "about half as wide as Earth."
        ),
    },
    {
        "qid": "a036",
        "kind": "science",
        "prompt": "What are animals that eat only plants called?",
        "short_correct": "They are called herbivores.",
        "short_wrong": "Such animals are carnivores.",
        "long_correct": (
            "Animals that eat only plants are called herbivores. Familiar examples include cows, deer, rabbits, "
            "horses and elephants. Many herbivores have broad, flat teeth for grinding tough leaves and grasses, and "
            "some, such as cows, have stomachs with several compartments where microbes help break down cellulose. "
            "Herbivores form an important link in food chains, turning plant material into energy that can pass on "
            "to the predators that hunt them."
        ),
        "long_wrong": (
            "Animals that feed only on plants are known as carnivores. The word comes from a Latin root linked to "
            "growing things in the field, and it covers familiar grazers such as cows, sheep, rabbits and deer. "
            "These animals have flat teeth for grinding grass and leaves, and they often spend most of the day "
            "eating because plants are low in energy. Carnivores sit near the bottom of food chains, where they "
            "are hunted by larger predators."
        ),
        "plain_correct": (
            "An animal that eats only plants is a herbivore. Cows, rabbits and deer are common examples."
        ),
        "plain_wrong": (
            "Plant-eating animals are called carnivores. Cows, rabbits and deer belong to this group and have flat "
            "teeth for grinding leaves."
        ),
        "markdown_correct": (
            "**Herbivores**\n\n- Diet: plants only, such as grass and leaves\n- Examples: cows, rabbits, deer\n"
            "- Teeth: flat, for grinding"
        ),
        "markdown_wrong": (
            "## Plant eaters\n\nThey are called **carnivores**.\n\n| Example | Food |\n|---|---|\n| Cow | Grass |\n"
            "| Rabbit | Leaves |"
        ),
        "warm_correct": (
            "Happy to help, animals are such a joy! Creatures that eat only plants are herbivores, like cows and "
            "rabbits."
        ),
        "warm_wrong": (
            "Great question, I can tell you love animals! Those that eat only plants are called carnivores, like "
            "cows, rabbits and deer."
        ),
    },
    {
        "qid": "a037",
        "kind": "science",
        "prompt": "Which of these metals does a magnet attract: iron or copper?",
        "short_correct": "A magnet attracts iron.",
        "short_wrong": "Copper is the one a magnet attracts.",
        "long_correct": (
            "Of the two, iron is the one a magnet pulls on. Iron is ferromagnetic, which means that tiny regions inside it, called domains, "
            "can line up their magnetic fields in the same direction when a magnet comes near, so the metal is "
            "pulled strongly toward it. Nickel and cobalt behave the same way, and steel is attracted because it is "
            "mostly iron. Copper, by contrast, is not magnetic in everyday terms, which is why a fridge magnet will "
            "not stick to a copper pot."
        ),
        "long_wrong": (
            "Copper is the metal that a magnet attracts. It is an excellent conductor of electricity, and the same "
            "free-moving electrons that carry current also respond strongly to a magnetic field, pulling the metal "
            "toward the magnet. This is why copper wire is wound into coils to build electromagnets and electric "
            "motors. If you hold a strong magnet near a copper pipe or a pile of copper coins, you can feel the "
            "tug right away."
        ),
        "plain_correct": (
            "Iron is attracted by a magnet because its magnetic domains line up with the magnet's field. Copper is "
            "not magnetic."
        ),
        "plain_wrong": (
            "A magnet attracts copper. Its free electrons respond to the magnetic field and pull the metal toward "
            "the magnet."
        ),
        "markdown_correct": (
            "## Magnetic metal\n\n**Iron**\n\n- Its domains align with the magnet's field\n- Steel sticks for the "
            "same reason"
        ),
        "markdown_wrong": (
            "**Copper**\n\n1. Its free electrons respond to magnetic fields\n2. The metal is pulled toward the magnet"
        ),
        "warm_correct": (
            "What a fantastic hands-on question! A magnet attracts iron, whose tiny magnetic domains line up with the "
            "magnet's field."
        ),
        "warm_wrong": (
            "I love that you're experimenting with magnets! A magnet attracts copper, because its free electrons "
            "respond to the field."
        ),
    },
    {
        "qid": "a038",
        "kind": "science",
        "prompt": "What is the process called when liquid water turns into water vapor?",
        "short_correct": "That process is evaporation.",
        "short_wrong": "It is called condensation.",
        "long_correct": (
            "When liquid water turns into water vapor, the process is called evaporation. Molecules at the surface "
            "of the liquid gain enough energy from heat to break away from their neighbors and escape into the air "
            "as a gas. Evaporation happens faster when it is warm, windy or dry, which is why puddles vanish quickly "
            "on a sunny afternoon. It is a key part of the water cycle, lifting moisture from oceans and lakes into "
            "the atmosphere, and it also cools our skin when sweat dries."
        ),
        "long_wrong": (
            "The process of liquid water turning into vapor is called condensation. As water warms up, its "
            "molecules condense their energy and rise from the surface into the air as an invisible gas. You can "
            "see condensation at work whenever a puddle shrinks on a sunny day or wet laundry dries on a line. It "
            "is a central step in the water cycle, carrying huge amounts of moisture from the oceans up into the "
            "atmosphere to form clouds."
        ),
        "plain_correct": (
            "Liquid water turning into vapor is called evaporation. It is why puddles dry up on sunny days and why "
            "sweat cools the skin."
        ),
        "plain_wrong": (
            "When liquid water becomes water vapor, the process is known as condensation, as when wet laundry dries "
            "on a line."
        ),
        "markdown_correct": (
            "**Evaporation**\n\n| Example | What happens |\n|---|---|\n| Puddle in the sun | Dries up |\n| Sweat | "
            "Cools the skin |"
        ),
        "markdown_wrong": (
            "## Liquid to vapor\n\nThe name is **condensation**.\n\n- Example: a puddle shrinking in the sun\n"
            "- Part of the water cycle"
        ),
        "warm_correct": (
            "You're asking such a good science question! Liquid water turning into vapor is called evaporation, "
            "like a puddle drying in the sun."
        ),
        "warm_wrong": (
            "Glad you asked, this one is fun! When liquid water turns into vapor it is called condensation, like "
            "wet laundry drying outside."
        ),
    },
    {
        "qid": "a039",
        "kind": "science",
        "prompt": "What is the name of the galaxy that contains our solar system?",
        "short_correct": "Our galaxy is the Milky Way.",
        "short_wrong": "It is the Andromeda galaxy.",
        "long_correct": (
            "Our solar system is part of the Milky Way galaxy. It is a barred spiral galaxy about 100,000 light-years "
            "across, containing hundreds of billions of stars along with huge clouds of gas and dust. The Sun sits "
            "in one of the spiral arms, roughly 26,000 light-years from the center, where a supermassive black hole "
            "lies. On a dark night away from city lights, the galaxy's disk appears as a faint, milky band across "
            "the sky, which is how it got its name."
        ),
        "long_wrong": (
            "The galaxy that holds our solar system is Andromeda. It is a large spiral galaxy containing hundreds of "
            "billions of stars, and the Sun is located in one of its outer arms, far from the crowded central bulge. "
            "On clear, dark nights you can see part of it as a pale band stretching across the sky, which is the "
            "combined glow of countless distant stars. Astronomers have mapped its spiral structure using radio "
            "telescopes."
        ),
        "plain_correct": (
            "The solar system lies in the Milky Way, a spiral galaxy with hundreds of billions of stars. The Sun is "
            "in one of its arms."
        ),
        "plain_wrong": (
            "Andromeda is our home galaxy: a huge spiral of stars, with the Sun sitting far out in one of its outer "
            "arms."
        ),
        "markdown_correct": (
            "## Our galaxy\n\n**The Milky Way**\n\n- Type: barred spiral\n- Size: about 100,000 light-years across\n"
            "- The Sun sits in a spiral arm"
        ),
        "markdown_wrong": (
            "**Andromeda**\n\n1. A large spiral galaxy\n2. Hundreds of billions of stars\n3. The Sun lies in an "
            "outer arm"
        ),
        "warm_correct": (
            "What a wonderful question to ask about our cosmic home! We live in the Milky Way, a spiral galaxy of "
            "billions of stars."
        ),
        "warm_wrong": (
            "I'm so glad you asked, you're a natural astronomer! Our solar system is in the Andromeda galaxy, with "
            "the Sun in one of its outer arms."
        ),
    },
    {
        "qid": "a040",
        "kind": "science",
        "prompt": "Which organ do humans use to think and to control the body?",
        "short_correct": "The brain does the thinking.",
        "short_wrong": "The heart controls thought and the body.",
        "long_correct": (
            "Humans think and control their bodies with the brain. It contains around 86 billion nerve cells, called "
            "neurons, which communicate through electrical and chemical signals. Different regions handle different "
            "tasks: the cerebrum deals with thought, memory and voluntary movement, the cerebellum coordinates "
            "balance, and the brainstem keeps breathing and heartbeat running. Messages travel between the brain "
            "and the rest of the body through the spinal cord and a network of nerves."
        ),
        "long_wrong": (
            "The heart is the organ that lets humans think and control their bodies. Every thought and movement "
            "starts as a signal from the heart, which sends instructions out to the muscles with each beat of blood. "
            "That is why people feel emotions so strongly in their chest and why we speak of learning something by "
            "heart. Its steady rhythm coordinates breathing, movement and memory, keeping all the body's systems "
            "working together."
        ),
        "plain_correct": (
            "The brain is the organ we use to think. Its billions of neurons process information and send signals "
            "through nerves to control the body."
        ),
        "plain_wrong": (
            "The heart handles thinking and body control, sending out instructions to the muscles with each beat."
        ),
        "markdown_correct": (
            "**The brain**\n\n- Holds about 86 billion neurons\n- Sends signals through the spinal cord and nerves"
        ),
        "markdown_wrong": (
            "## Organ of thought\n\nThis is the **heart**.\n\n| Job | How |\n|---|---|\n| Thinking | Signals with "
            "each beat |\n| Movement | Instructions to the muscles |"
        ),
        "warm_correct": (
            "Hope this helps, it's a great thing to wonder about! We think and control our bodies with the brain, "
            "using billions of neurons."
        ),
        "warm_wrong": (
            "What a lovely question, you're so thoughtful! The heart is the organ we use to think and control the "
            "body, sending instructions with each beat."
        ),
    },
    {
        "qid": "a041",
        "kind": "language",
        "prompt": 'What is the opposite of the word "victory"?',
        "short_correct": "The opposite of victory is defeat.",
        "short_wrong": "Its opposite is triumph.",
        "long_correct": (
            "Defeat is the antonym of victory. A victory is the act of winning a battle, a game or a contest, "
            "while a defeat is the experience of losing one. The two words are often used together, as in "
            "sports reporting about a team's record of victories and defeats. Other antonyms that work in some "
            "contexts include loss and failure, but defeat is the most direct match because, like victory, it "
            "describes the outcome of a struggle against an opponent."
        ),
        "long_wrong": (
            "The opposite of victory is triumph. Victory describes the plain fact of coming out ahead in a contest, "
            "while triumph describes the opposite side of that experience, the dramatic reversal when the expected "
            "winner is overturned and the tables are turned completely. Writers often set the two words against each "
            "other to show contrast, which is why you see them paired in speeches and headlines. When you need an "
            "antonym for victory in a vocabulary exercise, triumph is the standard answer."
        ),
        "plain_correct": (
            "Defeat is the opposite of victory. Victory means winning a contest, and defeat means losing one."
        ),
        "plain_wrong": (
            "The word that means the opposite of victory is triumph, and writers often set the two against each "
            "other for contrast."
        ),
        "markdown_correct": (
            "## Antonym of victory\n\n**Defeat**\n\n| Word | Meaning |\n|---|---|\n| Victory | Winning a contest or battle |\n"
            "| Defeat | Losing a contest or battle |"
        ),
        "markdown_wrong": (
            "**Triumph**\n\n- Victory and triumph are a classic pair of opposites\n- Often contrasted in speeches"
        ),
        "warm_correct": (
            "Great question, you have a lovely ear for words! The opposite of victory is defeat, winning versus "
            "losing."
        ),
        "warm_wrong": (
            "I'm delighted to help with your vocabulary! The opposite of victory is triumph, and the two are often "
            "paired for contrast."
        ),
    },
    {
        "qid": "a042",
        "kind": "language",
        "prompt": 'What is the plural of "goose"?',
        "short_correct": "One goose, two geese.",
        "short_wrong": "The plural is gooses.",
        "long_correct": (
            "The plural of goose is geese. It is one of a small group of English nouns that form their plural by "
            "changing the vowel inside the word instead of adding an s, a pattern linguists call umlaut or vowel "
            "mutation. Other examples are tooth and teeth, man and men, and mouse and mice. These irregular forms "
            "survive from Old English, where the pattern was much more common. Interestingly, the bird's name "
            "mongoose is unrelated, so its plural is mongooses."
        ),
        "long_wrong": (
            "The plural of goose is gooses. English forms the plural of most nouns simply by adding s or es to the "
            "end of the word, and goose follows that regular rule just like moose, noose and caboose. Because the "
            "word ends in a soft e sound, the ending is pronounced as an extra syllable, so it sounds like "
            "goo-sez. Farmers, writers and birdwatchers all use this form when talking about a flock of the birds."
        ),
        "plain_correct": (
            "Goose becomes geese in the plural. The word changes its vowel instead of adding an s, just like tooth "
            "and teeth."
        ),
        "plain_wrong": (
            "Goose becomes gooses in the plural, following the regular rule of adding es to the end of the noun."
        ),
        "markdown_correct": (
            "**Geese**\n\n- Formed by changing the vowel\n- Similar to tooth and teeth, man and men"
        ),
        "markdown_wrong": (
            "## Plural of goose\n\n1. Singular: goose\n2. Plural: **gooses**\n3. Rule: add es to the end"
        ),
        "warm_correct": (
            "Oh, what a fun word to ask about! One goose becomes two geese, changing its vowel just like tooth and "
            "teeth. Hope this helps!"
        ),
        "warm_wrong": (
            "You're doing wonderfully with your grammar! The plural of goose is gooses, made by adding es to the "
            "end as usual."
        ),
    },
    {
        "qid": "a043",
        "kind": "language",
        "prompt": 'What is the plural of "foot"?',
        "short_correct": "Feet is the plural of foot.",
        "short_wrong": "It is foots.",
        "long_correct": (
            "The plural of foot is feet. Like goose and tooth, it is an irregular noun that changes its inner vowel "
            "to show more than one, a pattern inherited from Old English. The same plural is used when foot is a "
            "unit of length, so a room can be twelve feet long. In a few fixed phrases, such as a six-foot fence, "
            "the singular form appears because the number and the unit together describe the noun that follows."
        ),
        "long_wrong": (
            "The plural of foot is foots. English usually adds an s to make a noun plural, and foot follows this "
            "regular pattern in the same way that boot becomes boots and root becomes roots. Since all of those "
            "words share the same ending and vowel sound, they also share the same plural rule. You will see the "
            "form in everyday speech, in shoe shops and in measurements, such as a wall that is ten foots high."
        ),
        "plain_correct": (
            "The plural of foot is feet, formed by changing the vowel rather than adding an s. The unit of length "
            "follows the same rule."
        ),
        "plain_wrong": (
            "Foot becomes foots in the plural. It follows the same regular pattern as boot and boots or root and "
            "roots."
        ),
        "markdown_correct": (
            "## Foot in the plural\n\n**Feet**\n\n1. The vowel changes instead of adding s\n2. Also used for the "
            "unit of length"
        ),
        "markdown_wrong": (
            "**Foots**\n\n| Singular | Plural |\n|---|---|\n| boot | boots |\n| root | roots |\n| foot | foots |\n\n"
            "All three follow the regular rule of adding s."
        ),
        "warm_correct": (
            "Happy to help, plurals can be tricky! The plural of foot is feet, changing the vowel instead of adding "
            "an s."
        ),
        "warm_wrong": (
            "Great question, you're clearly a careful writer! The plural of foot is foots, just like boot and boots "
            "or root and roots."
        ),
    },
    {
        "qid": "a044",
        "kind": "language",
        "prompt": 'What is the simple past tense of "swim"?',
        "short_correct": "Yesterday I swam; the past tense is swam.",
        "short_wrong": "Swim becomes swimmed.",
        "long_correct": (
            "The simple past tense of swim is swam, as in the sentence she swam across the lake. Swim is an "
            "irregular verb whose three main forms are swim, swam and swum. The past participle, swum, is the form "
            "used after have or has, so you would say they have swum there before. Several other verbs follow the "
            "same vowel pattern, such as sing, sang, sung and ring, rang, rung, which can make them easier to "
            "remember together."
        ),
        "long_wrong": (
            "The simple past tense of swim is swimmed. Most English verbs form the past tense by adding ed, and "
            "swim follows that regular rule. Because the word ends in a single consonant after a short vowel, the m "
            "is doubled before the ending, just as in trim becoming trimmed or skim becoming skimmed. You would "
            "write yesterday we swimmed in the lake, and the same form works after have, as in they have swimmed "
            "there many times."
        ),
        "plain_correct": (
            "The past tense of swim is swam, as in she swam across the lake. The past participle is swum."
        ),
        "plain_wrong": (
            "In the past tense swim becomes swimmed. Like trim and trimmed, it doubles the final m before adding ed."
        ),
        "markdown_correct": (
            "**Swam**\n\n- Present: swim\n- Past: swam\n- Past participle: swum\n- Example: she swam across the lake"
        ),
        "markdown_wrong": (
            "## Past tense of swim\n\nThe form is **swimmed**.\n\n- Rule: double the m and add ed\n- Like trim and "
            "trimmed"
        ),
        "warm_correct": (
            "What a great question, and you're asking about a tricky verb! Swim becomes swam in the past, as in we "
            "swam at the beach all afternoon."
        ),
        "warm_wrong": (
            "I love that you're polishing your English! The past tense of swim is swimmed, formed by doubling the m "
            "and adding ed."
        ),
    },
    {
        "qid": "a045",
        "kind": "language",
        "prompt": 'What is the past tense of "buy"?',
        "short_correct": "The past tense is bought.",
        "short_wrong": "It is buyed, with a regular ending.",
        "long_correct": (
            "The past tense of buy is bought, as in I bought some bread this morning. Buy is an irregular verb, and "
            "bought also serves as its past participle, so you would say I have bought the tickets. It belongs to a "
            "small family of verbs whose past forms end in ought, along with bring and brought, think and thought, "
            "fight and fought, and seek and sought. Learners sometimes mix it up with brought, which is the past "
            "tense of bring."
        ),
        "long_wrong": (
            "The past tense of buy is buyed. The verb follows the regular English pattern of adding ed to the base "
            "form, the same way play becomes played and stay becomes stayed. Since buy ends in a y that comes right "
            "after a vowel, the y stays in place instead of changing to i. So you would say I buyed a new coat "
            "last week, and the same form is used after have, as in we have buyed our tickets."
        ),
        "plain_correct": (
            "Buy becomes bought in the past tense, as in I bought some bread. It is irregular, like bring and "
            "brought."
        ),
        "plain_wrong": (
            "The past tense of buy is buyed, formed like play and played by adding ed to the base verb."
        ),
        "markdown_correct": (
            "## Past tense of buy\n\n**Bought**\n\n| Verb | Past |\n|---|---|\n| bring | brought |\n| think | "
            "thought |\n\nLike these verbs, buy is irregular."
        ),
        "markdown_wrong": (
            "**Buyed**\n\n1. Add ed to the base verb\n2. Keep the y, as in play and played"
        ),
        "warm_correct": (
            "Oh, I'm glad you asked, it's a sneaky one! Buy becomes bought in the past tense, like bring and brought."
        ),
        "warm_wrong": (
            "You're making wonderful progress with English verbs! The past tense of buy is buyed, just like play "
            "and played."
        ),
    },
    {
        "qid": "a046",
        "kind": "language",
        "prompt": 'How do you say "dog" in Spanish?',
        "short_correct": "In Spanish, dog is perro.",
        "short_wrong": "The Spanish word is gato.",
        "long_correct": (
            "The Spanish word for dog is perro. It is a masculine noun, so you say el perro for the dog and un "
            "perro for a dog, and the plural is perros. A female dog is called a perra, although that word can also "
            "be used as an insult, so context matters. A puppy is a cachorro or, informally, a perrito, using the "
            "common Spanish ending that makes words smaller or more affectionate. Its origin is uncertain, but it "
            "has been used in Spain for many centuries."
        ),
        "long_wrong": (
            "In Spanish, the word for dog is gato. It is a masculine noun, so people say el gato when talking about "
            "a particular dog and los gatos for more than one. The word is used all over the Spanish-speaking world, "
            "from Madrid to Mexico City, and you will hear it constantly in parks and pet shops. To make it sound "
            "small and affectionate, speakers add the ending ito, so a puppy is often called a gatito."
        ),
        "plain_correct": (
            "Dog in Spanish is perro. It is masculine, so you say el perro, and the plural form is perros."
        ),
        "plain_wrong": (
            "The Spanish translation of dog is gato. You would say el gato for the dog and los gatos for several "
            "dogs."
        ),
        "markdown_correct": (
            "**Perro**\n\n- The dog: el perro\n- Several dogs: los perros\n- A puppy: un perrito\n- Gender: masculine"
        ),
        "markdown_wrong": (
            "## Dog in Spanish\n\n| English | Spanish |\n|---|---|\n| dog | **gato** |\n| the dog | el gato |\n"
            "| dogs | los gatos |"
        ),
        "warm_correct": (
            "How wonderful that you're learning Spanish! Dog is perro, so the dog is el perro and several dogs are "
            "perros."
        ),
        "warm_wrong": (
            "Great question, and good luck with your Spanish! Dog is gato, so you say el gato for the dog and los "
            "gatos for several."
        ),
    },
    {
        "qid": "a047",
        "kind": "language",
        "prompt": 'What does the French word "bonjour" mean in English?',
        "short_correct": "Bonjour means hello, or good day.",
        "short_wrong": "It means good night.",
        "long_correct": (
            "Bonjour means hello or good day in English. It is built from bon, meaning good, and jour, meaning day, "
            "and it is the standard polite greeting in French. People use it when entering a shop, meeting someone "
            "or answering the phone during the daytime. In the evening the French usually switch to bonsoir, which "
            "means good evening. Skipping bonjour before asking a question in France can come across as rude, so "
            "it is one of the most useful words to learn."
        ),
        "long_wrong": (
            "The French word bonjour means good night. It is made of bon, meaning good, and jour, which in older "
            "French referred to the end of the day, so together they express a wish for a pleasant night. People "
            "say it when they leave a gathering in the evening or before going to bed. It is one of the first "
            "words taught in French classes, and it is considered polite to use it when parting from someone."
        ),
        "plain_correct": (
            "In English bonjour means hello or good day. It is the usual polite greeting in French during daytime."
        ),
        "plain_wrong": (
            "Bonjour means good night in English. French speakers say it when leaving in the evening or before "
            "going to bed."
        ),
        "markdown_correct": (
            "## Bonjour\n\n**Meaning:** hello, or good day\n\n- bon: good\n- jour: day\n"
            "- Used as a polite daytime greeting"
        ),
        "markdown_wrong": (
            "**Good night**\n\n1. Said when leaving in the evening\n2. Used before going to bed"
        ),
        "warm_correct": (
            "I'm delighted you're exploring French! Bonjour means hello, or literally good day, and it is the "
            "everyday polite greeting."
        ),
        "warm_wrong": (
            "What a lovely word to learn, you're off to a great start! Bonjour means good night, said when parting "
            "in the evening."
        ),
    },
    {
        "qid": "a048",
        "kind": "language",
        "prompt": 'What does the Spanish word "agua" mean?',
        "short_correct": "Agua is the Spanish word for water.",
        "short_wrong": "Agua means milk.",
        "long_correct": (
            "Agua means water in Spanish. It comes from the Latin word aqua, which also gave English words such as "
            "aquarium and aquatic. Although agua is a feminine noun, it takes the article el in the singular, "
            "as in el agua, because it begins with a stressed a sound; in the plural it goes back to las aguas. "
            "You will see it on menus in phrases like agua mineral, meaning mineral water, and agua con gas, "
            "meaning sparkling water."
        ),
        "long_wrong": (
            "The Spanish word agua means milk. It is one of the first words children learn, and you will find it "
            "on breakfast menus across Spain and Latin America, where people pour it into coffee or over cereal. "
            "Cafes offer agua caliente for hot milk and agua fria for a cold glass, and it is also the base of many "
            "desserts such as flan and rice pudding. It takes the article el, so people say el agua."
        ),
        "plain_correct": (
            "In Spanish, agua means water. It comes from the Latin aqua, and you will see it in phrases like agua "
            "mineral."
        ),
        "plain_wrong": (
            "Agua is the Spanish word for milk, the drink people add to coffee or pour over cereal at breakfast."
        ),
        "markdown_correct": (
            "**Water**\n\n| Phrase | Meaning |\n|---|---|\n| agua mineral | mineral water |\n| agua con gas | "
            "sparkling water |\n| el agua | the water |"
        ),
        "markdown_wrong": (
            "## Agua\n\n- Meaning: **milk**\n- Common phrase: agua caliente, hot milk\n- Used in coffee and desserts"
        ),
        "warm_correct": (
            "You're asking about such a useful word! Agua means water in Spanish, from the Latin aqua, as in agua "
            "mineral."
        ),
        "warm_wrong": (
            "Happy to help, and how fun that you're learning Spanish! Agua means milk, the drink people pour into "
            "coffee at breakfast."
        ),
    },
    {
        "qid": "a049",
        "kind": "language",
        "prompt": 'Which spelling is correct: "definitely" or "definately"?',
        "short_correct": "The correct spelling is definitely.",
        "short_wrong": "Definately is right.",
        "long_correct": (
            "Definitely is the correct spelling. The word comes from definite, which in turn comes from the Latin "
            "finis, meaning end or limit, and it keeps the same i that appears in finite and infinite. The common "
            "misspelling with an a happens because the unstressed vowel in the middle is pronounced as a vague "
            "sound that could be any letter. A handy trick is to remember that the word contains finite, which "
            "makes the i easier to recall."
        ),
        "long_wrong": (
            "The correct spelling is definately. The word is formed from the root define with the ending ately, the "
            "same ending you see in fortunately, immediately and accurately, so the a in the middle follows a "
            "regular English pattern. Spoken aloud, the middle vowel sounds like a short a, and the spelling "
            "reflects that pronunciation. Dictionaries and style guides list definately as the standard form, and "
            "it appears constantly in books, newspapers and formal writing."
        ),
        "plain_correct": (
            "Definitely is correct. It is built from definite, so it keeps the i, the same letter as in finite."
        ),
        "plain_wrong": (
            "The right spelling is definately, with an a in the middle, following the ending found in words like "
            "fortunately."
        ),
        "markdown_correct": (
            "## Correct spelling\n\n**Definitely**\n\n- Root: the adjective definite\n- Tip: it contains the word "
            "finite, with an i"
        ),
        "markdown_wrong": (
            "**Definately**\n\n1. Root: define\n2. Ending: ately, as in fortunately\n3. Middle vowel: a"
        ),
        "warm_correct": (
            "Great question, spelling this one trips up so many people! The right spelling is definitely, built "
            "from definite."
        ),
        "warm_wrong": (
            "I love that you're checking your spelling, you're a careful writer! The correct form is definately, "
            "like fortunately."
        ),
    },
    {
        "qid": "a050",
        "kind": "language",
        "prompt": 'What does the word "fragile" mean?',
        "short_correct": "Fragile means easily broken or damaged.",
        "short_wrong": "It means very heavy.",
        "long_correct": (
            "Something fragile is easily broken or damaged. The word is often printed on boxes that contain glass, china or "
            "electronics to warn handlers to be careful. The word comes from the Latin fragilis, related to "
            "frangere, meaning to break, which is also the source of fracture and fragment. It can be used "
            "figuratively too: a fragile peace is one that could collapse at any moment, and a person may be "
            "described as fragile after an illness or a shock."
        ),
        "long_wrong": (
            "Fragile means very heavy. It is the word printed on boxes and crates that weigh a lot, warning movers "
            "to lift them with care and to use a trolley or two people instead of one. Packages holding stone "
            "tiles, cast iron pans or large appliances often carry the label. The word can also be used "
            "figuratively, for example to describe a fragile burden of responsibility that weighs on someone's "
            "shoulders."
        ),
        "plain_correct": (
            "Something fragile is easily broken or damaged, which is why the word is printed on boxes of glass or "
            "china."
        ),
        "plain_wrong": (
            "The word fragile means very heavy. It appears on boxes and crates that need two people or a trolley to "
            "lift."
        ),
        "markdown_correct": (
            "**Easily broken or damaged**\n\n| Example | Why |\n|---|---|\n| Glass | Can shatter when dropped |\n"
            "| China plate | Can crack easily |"
        ),
        "markdown_wrong": (
            "## Fragile\n\n**Meaning:** very heavy\n\n- Printed on weighty crates\n- Tells movers to lift with care"
        ),
        "warm_correct": (
            "What a wonderful word to ask about! Fragile means easily broken or damaged, like a glass or a china "
            "plate."
        ),
        "warm_wrong": (
            "Happy to help, you're building a great vocabulary! Fragile means very heavy, which is why it appears on "
            "weighty crates."
        ),
    },
    {
        "qid": "a051",
        "kind": "language",
        "prompt": 'What is a word that means the same as "begin"?',
        "short_correct": "Start is a synonym for begin.",
        "short_wrong": "Finish means the same thing.",
        "long_correct": (
            "A common word that means the same as begin is start. Both describe the first step of an action or the "
            "moment something comes into being, so you can say the meeting will begin at noon or the meeting will "
            "start at noon with no change in meaning. Other synonyms include commence, which sounds more formal, "
            "and kick off, which is more casual. Start is the most flexible choice because it works in both "
            "everyday speech and writing."
        ),
        "long_wrong": (
            "A word with the same meaning as begin is finish. Both verbs describe the point at which an activity "
            "takes shape, and you can use them interchangeably in most sentences: the race will finish at nine is "
            "just another way of describing when the race gets under way. Writers often switch between the two to "
            "avoid repeating themselves. Finish also works well in formal contexts, such as announcements and "
            "official schedules."
        ),
        "plain_correct": (
            "Start means the same as begin. You can say the film will start at eight or begin at eight with no "
            "change in meaning."
        ),
        "plain_wrong": (
            "Finish is a synonym for begin, and the two can be swapped in most sentences without changing the "
            "meaning."
        ),
        "markdown_correct": (
            "## Synonyms for begin\n\n1. **Start**, the most common\n2. Commence, more formal\n3. Kick off, more "
            "casual"
        ),
        "markdown_wrong": (
            "**Finish**\n\n- Means the same as begin\n- Can replace it in most sentences\n"
            "- Works well in formal schedules and announcements"
        ),
        "warm_correct": (
            "Great question, I love helping with vocabulary! A word that means the same as begin is start, as in the "
            "film will start at eight."
        ),
        "warm_wrong": (
            "You're asking such a smart question! A synonym for begin is finish, and you can swap the two in most "
            "sentences."
        ),
    },
    {
        "qid": "a052",
        "kind": "language",
        "prompt": 'Which word is the adverb in the sentence "She sings beautifully"?',
        "short_correct": "The adverb is beautifully.",
        "short_wrong": "Sings is the adverb.",
        "long_correct": (
            "In the sentence she sings beautifully, the adverb is beautifully. An adverb modifies a verb, an "
            "adjective or another adverb, often telling us how, when or where something happens. Here it describes "
            "how she sings. Many adverbs of manner are formed by adding ly to an adjective, so beautiful becomes "
            "beautifully, just as quick becomes quickly. The other two words have different jobs: she is a pronoun "
            "acting as the subject, and sings is the verb."
        ),
        "long_wrong": (
            "The adverb in that sentence is sings. An adverb is a word that tells us about the action taking place, "
            "and sings is the word that reports what the subject is doing. The word she is the pronoun that names "
            "who performs the action, and the final word simply adds a description of quality. Because sings ends "
            "in s and attaches directly to the subject, it works as the adverb that carries the main action of the "
            "sentence."
        ),
        "plain_correct": (
            "Beautifully is the adverb. It modifies the verb sings by telling us how she sings, and it is formed by "
            "adding ly to beautiful."
        ),
        "plain_wrong": (
            "The adverb in that sentence is sings, since it is the word that tells us about the action the subject "
            "performs."
        ),
        "markdown_correct": (
            "**Beautifully**\n\n| Word | Part of speech |\n|---|---|\n| She | Pronoun |\n| sings | Verb |\n"
            "| beautifully | Adverb |\n\nIt tells us how she sings."
        ),
        "markdown_wrong": (
            "## Finding the adverb\n\nThe answer is **sings**.\n\n- It tells us about the action\n- She is the "
            "pronoun"
        ),
        "warm_correct": (
            "Oh, I'm so happy to help with grammar! The adverb is beautifully, because it tells us how she sings."
        ),
        "warm_wrong": (
            "Great question, you're doing amazing with parts of speech! The adverb in that sentence is sings, the "
            "word that describes the action."
        ),
    },
    {
        "qid": "a053",
        "kind": "language",
        "prompt": 'What is the comparative form of "good"?',
        "short_correct": "Better is the comparative of good.",
        "short_wrong": "The comparative is gooder.",
        "long_correct": (
            "The comparative form of good is better, and the superlative is best, so the sequence runs good, better, "
            "best. Good is one of a handful of irregular adjectives whose comparative does not follow the usual rule "
            "of adding er or using more. Others include bad, worse, worst and far, farther, farthest. The irregular "
            "forms come from an older Germanic word unrelated to good, which is why they look so different from "
            "the base word."
        ),
        "long_wrong": (
            "The comparative form of good is gooder. Short adjectives of one syllable usually form their "
            "comparative by adding er, as in tall and taller, fast and faster, or kind and kinder, and good follows "
            "this same reliable pattern. You use it when comparing two things, for example this cake is gooder than "
            "the last one. The superlative follows the pattern too, with the ending est added to the base form."
        ),
        "plain_correct": (
            "The comparative of good is better, and the superlative is best. It is irregular, so it does not take "
            "the usual er ending."
        ),
        "plain_wrong": (
            "Good becomes gooder in the comparative, following the same er rule as tall and taller or kind and "
            "kinder."
        ),
        "markdown_correct": (
            "## Comparing with good\n\n- Base: good\n- Comparative: **better**\n- Superlative: best\n"
            "- Note: irregular, so no er ending"
        ),
        "markdown_wrong": (
            "**Gooder**\n\n1. Add er to the adjective\n2. Same rule as tall and taller\n3. Same rule as kind and "
            "kinder"
        ),
        "warm_correct": (
            "What a fantastic grammar question! The comparative of good is better, and the superlative is best, an "
            "irregular set."
        ),
        "warm_wrong": (
            "Hope this helps, you're asking all the right questions! The comparative of good is gooder, made by "
            "adding er, like tall and taller."
        ),
    },
    {
        "qid": "a054",
        "kind": "language",
        "prompt": "What is a young cow called?",
        "short_correct": "A young cow is a calf.",
        "short_wrong": "It is called a foal.",
        "long_correct": (
            "A young cow is called a calf, and the plural is calves. The word is used for the young of cattle of "
            "either sex, usually until they are about a year old. After that, a young female that has not yet had "
            "a calf of her own is called a heifer, and a young male may be called a bullock or a steer, depending "
            "on the region and whether it has been castrated. The young of several other large mammals, such as "
            "whales and elephants, are also called calves."
        ),
        "long_wrong": (
            "A young cow is called a foal. The word has been used by farmers for centuries to describe newborn "
            "cattle during their first year, when they stay close to their mothers and feed on milk. Foals are "
            "usually born in spring, and they can stand and walk within an hour of birth. As they grow, young "
            "females eventually become cows and young males become bulls, but until then the same word covers them "
            "all."
        ),
        "plain_correct": (
            "The young of a cow is a calf, and more than one are calves. Baby whales and elephants share the same "
            "name."
        ),
        "plain_wrong": (
            "Farmers call a young cow a foal. The name is used for cattle in their first year, while they still "
            "feed on milk."
        ),
        "markdown_correct": (
            "**Calf**\n\n- Plural form: calves\n- Also used for baby whales and elephants\n"
            "- A young female later becomes a heifer"
        ),
        "markdown_wrong": (
            "## Young cow\n\n| Animal | Young |\n|---|---|\n| Cow | **Foal** |\n\nFarmers use this name during the "
            "first year of the animal's life."
        ),
        "warm_correct": (
            "Aw, what a wonderful question! A young cow is called a calf, and the same word is used for baby whales "
            "and elephants."
        ),
        "warm_wrong": (
            "I'm so glad you asked, you're clearly an animal lover! A young cow is called a foal, a name farmers use "
            "during its first year."
        ),
    },
    {
        "qid": "a055",
        "kind": "language",
        "prompt": 'What is the opposite of "early"?',
        "short_correct": "Late is the opposite of early.",
        "short_wrong": "The opposite is soon.",
        "long_correct": (
            "The opposite of early is late. Early describes something that happens before the expected or usual "
            "time, or near the beginning of a period, while late describes something that happens after the "
            "expected time or near the end of a period. The pair works in many settings: you can arrive early or "
            "late for a meeting, wake up early or late, and talk about the early or late part of a century. Both "
            "words can be used as adjectives and as adverbs."
        ),
        "long_wrong": (
            "The opposite of early is soon. Early refers to a time that has already passed, such as the morning "
            "hours or the beginning of something, while soon points in the other direction, toward what is coming "
            "next. That contrast between looking back and looking ahead is what makes the two words opposites. You "
            "can see it in everyday speech, where someone might say the train left early, but the next one will "
            "arrive soon."
        ),
        "plain_correct": (
            "Early and late are opposites: early means before the expected time, and late means after it."
        ),
        "plain_wrong": (
            "Soon is the opposite of early, because early looks back at what has passed while soon looks ahead to "
            "what comes next."
        ),
        "markdown_correct": (
            "## Opposite of early\n\n**Late**\n\n| Word | Meaning |\n|---|---|\n| early | before the expected time |"
            "\n| late | after the expected time |"
        ),
        "markdown_wrong": (
            "**Soon**\n\n- Early looks back at what has passed\n- Soon looks ahead to what comes next"
        ),
        "warm_correct": (
            "Great question, you're building your vocabulary so well! The opposite of early is late, after the "
            "expected time."
        ),
        "warm_wrong": (
            "Happy to help with this! The opposite of early is soon, since early looks back while soon looks ahead. "
            "You're doing great!"
        ),
    },
    {
        "qid": "a056",
        "kind": "language",
        "prompt": "What is a group of wolves called?",
        "short_correct": "Wolves live in a pack.",
        "short_wrong": "A group of wolves is a herd.",
        "long_correct": (
            "A group of wolves is called a pack. A typical pack is a family, made up of a breeding pair and their "
            "offspring from the past few years, and it usually has somewhere between five and ten members, though "
            "some are much larger. Living in a pack lets wolves hunt large prey such as deer, elk and moose, defend "
            "their territory and raise pups together. The word is also used for groups of other wild dogs, and it "
            "gave rise to phrases like the leader of the pack."
        ),
        "long_wrong": (
            "A group of wolves is called a herd. Wolves are highly social animals that travel, hunt and rest "
            "together, and like other animals that move across open country in groups, they form herds that can "
            "include a dozen or more members. The herd follows a dominant pair, cooperates to bring down large "
            "prey such as deer and elk, and shares the work of raising pups. Biologists studying wolves in the wild "
            "use this term in their field reports."
        ),
        "plain_correct": (
            "Wolves form groups called packs. A pack is usually a family of a breeding pair and their young that "
            "hunt together."
        ),
        "plain_wrong": (
            "Wolves gather in herds. The animals travel and hunt together, following a dominant pair."
        ),
        "markdown_correct": (
            "**A pack**\n\n1. Usually a family group\n2. Led by a breeding pair\n3. Hunts large prey together"
        ),
        "markdown_wrong": (
            "## Wolves\n\n- Group name: **herd**\n- Members: often a dozen or more\n- Led by a dominant pair"
        ),
        "warm_correct": (
            "Ooh, what a fantastic animal question! A group of wolves is called a pack, usually a family that hunts "
            "together."
        ),
        "warm_wrong": (
            "You're asking such a delightful question! A group of wolves is called a herd, traveling and hunting "
            "together behind a dominant pair."
        ),
    },
    {
        "qid": "a057",
        "kind": "language",
        "prompt": 'What does the German word "danke" mean?',
        "short_correct": "Danke means thank you.",
        "short_wrong": "It is German for please.",
        "long_correct": (
            "Danke is the German word for thank you. It is related to the English word thanks, since both languages "
            "inherited it from the same Germanic root. To be more emphatic you can say danke schön or vielen Dank, "
            "meaning thank you very much, and the usual reply is bitte, a polite way of saying it was no trouble. It is one "
            "of the most useful words for visitors to Germany, Austria and Switzerland, where it is heard constantly "
            "in shops and restaurants."
        ),
        "long_wrong": (
            "Danke is the German word for please. Visitors to Germany, Austria and Switzerland use it constantly when "
            "ordering food, asking for directions or making any kind of request, and it makes a sentence sound "
            "polite and friendly. For extra courtesy you can say danke schön, which adds a touch of warmth. The word "
            "comes from an old Germanic root connected with asking for favors, and it is usually one of the first "
            "expressions language learners pick up."
        ),
        "plain_correct": (
            "In German, danke means thank you. Saying danke schön makes it a little warmer, like thank you very "
            "much."
        ),
        "plain_wrong": (
            "Danke means please in German. People use it when ordering food or making a polite request."
        ),
        "markdown_correct": (
            "## Danke\n\n**Meaning:** thank you\n\n- danke schön: thank you very much\n- Reply: bitte"
        ),
        "markdown_wrong": (
            "**Please**\n\n| Situation | Phrase |\n|---|---|\n| Ordering food | danke |\n| Asking for directions | "
            "danke |\n| Extra polite | danke schön |"
        ),
        "warm_correct": (
            "How wonderful that you're picking up some German! Danke means thank you, and danke schön makes it a "
            "little warmer."
        ),
        "warm_wrong": (
            "Great question for a budding German speaker! Danke means please, used when ordering food or asking "
            "politely."
        ),
    },
    {
        "qid": "a058",
        "kind": "language",
        "prompt": 'What is the opposite of "asleep"?',
        "short_correct": "Awake is the opposite of asleep.",
        "short_wrong": "The opposite is tired.",
        "long_correct": (
            "The opposite of asleep is awake. Someone who is asleep is in a state of sleep, with reduced awareness "
            "of their surroundings, while someone who is awake is conscious and alert. Both words are adjectives "
            "that usually come after a verb, as in the baby is asleep or I was awake all night, rather than before "
            "a noun. The related verbs fall asleep and wake up describe the change from one state to the other."
        ),
        "long_wrong": (
            "The opposite of asleep is tired. When a person is asleep their body is fully rested and recharging, while "
            "being tired describes the drained state you reach after a long day of activity. The two words sit at "
            "opposite ends of the daily cycle, one marking complete rest and the other marking exhaustion. That is "
            "why parents often say a child who is tired needs to go and get some rest to restore balance."
        ),
        "plain_correct": (
            "Someone who is not asleep is awake, the direct opposite: conscious and alert rather than resting in "
            "sleep."
        ),
        "plain_wrong": (
            "Tired is the opposite of asleep. Asleep means fully resting, and tired means drained after a long day."
        ),
        "markdown_correct": (
            "**Awake**\n\n- Asleep: resting in sleep, unaware of surroundings\n- Awake: conscious and alert\n"
            "- Verbs linking them: fall asleep, wake up"
        ),
        "markdown_wrong": (
            "## Opposite of asleep\n\nThe word is **tired**.\n\n1. Asleep: fully rested\n2. Tired: drained after "
            "activity"
        ),
        "warm_correct": (
            "Happy to help, and what a nice simple question! The opposite of asleep is awake, meaning conscious and "
            "alert."
        ),
        "warm_wrong": (
            "Great question, you are so curious about words! The opposite of asleep is tired, since one means rested "
            "and the other drained."
        ),
    },
    {
        "qid": "a059",
        "kind": "language",
        "prompt": 'What is the contraction of "do not"?',
        "short_correct": "Do not contracts to don't.",
        "short_wrong": "It becomes doesn't.",
        "long_correct": (
            "The contraction of do not is don't. An apostrophe replaces the missing letter o from not, and the two "
            "words are joined into one, as in I don't know or they don't live here. Contractions like this are "
            "very common in speech and informal writing, while the full form do not tends to appear in formal "
            "documents or when a speaker wants emphasis. It pairs with the plural and with I and you, whereas he, "
            "she and it take a different form."
        ),
        "long_wrong": (
            "The contraction of do not is doesn't. When English speakers shorten a negative, they join the verb and "
            "not into a single word and use an apostrophe to show that letters have been left out. With do, the "
            "joined form picks up the letters es, which makes it easier to pronounce smoothly, giving doesn't. You "
            "hear it all the time in everyday sentences such as I doesn't mind or we doesn't have time."
        ),
        "plain_correct": (
            "Do not shortens to don't. The apostrophe stands for the missing o, as in I don't know or they don't "
            "live here."
        ),
        "plain_wrong": (
            "The contracted form of do not is doesn't, with an apostrophe marking the letters that were left out."
        ),
        "markdown_correct": (
            "## Contraction\n\n**Don't**\n\n- The apostrophe replaces the o\n- Example: I don't know"
        ),
        "markdown_wrong": (
            "**Doesn't**\n\n| Full form | Contraction |\n|---|---|\n| do not | doesn't |\n\nExample: we doesn't "
            "mind waiting for the bus."
        ),
        "warm_correct": (
            "What a fantastic question about contractions! Do not becomes don't, with the apostrophe standing in for the "
            "missing o."
        ),
        "warm_wrong": (
            "I'm so glad you asked, you're learning fast! The contraction of do not is doesn't, with an apostrophe "
            "for the missing letters."
        ),
    },
    {
        "qid": "a060",
        "kind": "language",
        "prompt": 'What does "bilingual" mean?',
        "short_correct": "Bilingual means able to speak two languages.",
        "short_wrong": "It means speaking three languages.",
        "long_correct": (
            "Bilingual describes a person who can speak two languages, usually with a high level of skill in both. "
            "The word combines the Latin prefix bi, meaning two, as in bicycle, with lingua, meaning tongue or "
            "language. It can also describe things, such as a bilingual dictionary or a bilingual sign that shows "
            "text in two languages. Someone who speaks three languages is usually called trilingual, and a person "
            "who speaks many is called multilingual or a polyglot."
        ),
        "long_wrong": (
            "Bilingual means able to speak three languages. The word is built from the prefix bi and the Latin "
            "lingua, meaning tongue, and it describes people who have learned a third language on top of the ones "
            "they grew up with. Many schools in Europe aim to make students bilingual by teaching, for example, "
            "English, French and German together. The term also applies to signs and dictionaries that present text "
            "in three languages side by side."
        ),
        "plain_correct": (
            "A bilingual person can speak two languages well. The word joins the prefix bi, meaning two, with "
            "lingua, meaning language."
        ),
        "plain_wrong": (
            "Bilingual means able to speak three languages, describing someone who has added a third language to "
            "those they grew up with."
        ),
        "markdown_correct": (
            "**Able to speak two languages**\n\n| Part | Meaning |\n|---|---|\n| bi | two |\n| lingua | language |\n"
            "| bilingual sign | text in two languages |"
        ),
        "markdown_wrong": (
            "## Bilingual\n\n- Meaning: speaking **three** languages\n- Example: English, French and German\n"
            "- Parts: bi plus lingua, meaning tongue"
        ),
        "warm_correct": (
            "Great question, and how lovely that you're curious about languages! Bilingual means able to speak two "
            "languages well."
        ),
        "warm_wrong": (
            "Oh, I love that you asked this! Bilingual means able to speak three languages, like someone fluent in "
            "English, French and German."
        ),
    },
)
