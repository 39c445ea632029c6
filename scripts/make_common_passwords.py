#!/usr/bin/env python3
# Run from the repository root: python3 scripts/make_common_passwords.py
# Builds src/govmedia/store/common-passwords.txt: well-known leaked passwords (rockyou / SecLists top
# lists, Chinese leak top lists) and the patterns people derive from them.
base = """
123456 password 12345678 qwerty 123456789 12345 1234 111111 1234567 dragon 123123 baseball abc123 football
monkey letmein 696969 shadow master 666666 qwertyuiop 123321 mustang 1234567890 michael 654321 superman
1qaz2wsx 7777777 121212 000000 qazwsx 123qwe killer trustno1 jordan jennifer zxcvbnm asdfgh hunter buster
soccer harley batman andrew tigger sunshine iloveyou 2000 charlie robert thomas hockey ranger daniel
starwars klaster 112233 george computer michelle jessica pepper 1111 zxcvbn 555555 11111111 131313 freedom
777777 pass maggie 159753 aaaaaa ginger princess joshua cheese amanda summer love ashley nicole chelsea
biteme matthew access yankees 987654321 dallas austin thunder taylor matrix mobilemail mom monitor
monitoring montana moon moscow william corvette hello martin heather secret merlin diamond 1234qwer
gfhjkm hammer silver 222222 88888888 anthony justin test bailey q1w2e3r4t5 patrick internet scooter
orange 11111 golfer cookie richard samantha bigdog guitar jackson whatever mickey chicken sparky
snoopy maverick phoenix camaro peanut morgan welcome falcon cowboy ferrari samsung andrea smokey
steelers joseph mercedes dakota arsenal eagles melissa boomer booboo spider nascar monster tigers
yellow xxxxxx 123123123 gateway marina diablo bulldog qwer1234 compaq purple hardcore banana junior
hannah 123654 porsche lakers iceman money cowboys 987654 london tennis 999999 ncc1701 coffee scooby
0000 miller boston q1w2e3r4 brandon yamaha chester mother forever johnny edward 333333 oliver redsox
player nikita knight fender barney midnight please brandy chicago badboy slayer rangers charles angel
flower rabbit wizard bigdick jasper enter rachel chris steven winner adidas victoria natasha 1q2w3e4r
jasmine winter prince panties marine ghbdtn fishing cocacola casper james 232323 raiders 888888 marlboro
gandalf asdfasdf crystal 87654321 12344321 golden 8675309 panther lauren angela bitch spanky thx1138
angels madison winston shannon mike toyota blowjob jordan23 canada sophie Password apples dick tiger
razz 123abc pokemon qazxsw 55555 qwaszx muffin johnson murphy cooper jonathan liverpoo david danielle
159357 jackie 1990 123456a 789456 turtle horny abcd1234 scorpion qazwsxedc 101010 butter carlos
password1 dennis slipknot qwerty123 booger asdf 1991 black startrek 12341234 cameron newyork rainbow
nathan john 1992 rocket viking redskins butthead asdfghjkl 1212 sierra peaches gemini doctor wilson
sandra helpme qwertyui victor florida dolphin pookie captain tucker blue liverpool theman bandit
dolphins maddog packers jaguar lovers nicholas united tiffany maxwell zzzzzz nirvana jeremy suckit
stupid porn monica elephant giants jackass hotdog rosebud success debbie mountain 444444 xxxxxxxx
warrior 1q2w3e4r5t q1w2e3 123456q albert metallic lucky azerty 7777 shithead alex bond007 alexis 1111111
samson 5150 willie scorpio bonnie gators benjamin voodoo driver dexter 2112 jason calvin freddy 212121
creative 12345a sydney rush2112 1989 asdfghjk red123 bubba 4815162342 passw0rd trouble gunner happy
loveyou gordon billy 1234567a admin admin123 admin1234 administrator root toor root123 guest user
user123 test123 test1234 demo demo123 changeme changeme123 default welcome1 welcome123 letmein123
password123 password1234 password12 p@ssw0rd P@ssw0rd p@ssword passwd pass123 pass1234 qwerty1
qwerty12 qwerty1234 qwertyu 1qazxsw2 zaq12wsx zaq1xsw2 1qaz2wsx3edc qweasd qweasdzxc asd123 zxc123
abc12345 abcdef abcdefg abcdefgh abcd123 aa123456 a123456 a12345678 a123456789 aa12345678 123456aa
woaini woaini1314 woaini520 5201314 1314520 520520 5211314 iloveyou1 iloveyou123 woaiwojia
wangyang wang123 zhang123 li123456 liu123456 chen123456 yang123456 zhangwei wangwei 123456789a
1234567890a qq123456 qq123456789 123qweasd 147258369 147258 159357258 741852963 963852741 321321
456456 789789 147147 258258 369369 123789 100200 110110 110120 119119 12301230 1234512345 123456123
123456654321 1111111111 0000000000 00000000 22222222 33333333 44444444 55555555 66666666 77777777
99999999 12121212 11223344 11112222 1122334455 112233445566 13579 135792468 246810 987654321a
qwe123 qwe123456 qwe12345 asdasd asdasd123 zxczxc zxcvbnm123 1a2b3c4d 1a2b3c a1b2c3 a1b2c3d4
aaaaaaaa aaaaaaaaaa aaa111 abc123456 abc123456789 admin888 admin666 admin@123 Admin123 Admin@123
root@123 test@123 Aa123456 Aa123456789 Abc123456 Abcd1234 abc@123 1qaz@WSX 1QAZ2wsx Qwerty123
Qwer1234 qwer123456 asdf1234 asdfqwer zxcv1234 iloveu sunshine1 princess1 football1 baseball1
monkey123 dragon123 master123 superman123 batman123 michael1 charlie1 jessica1 letmein1 welcome01
trustno11 starwars1 computer1 shadow123 hello123 hello1234 helloworld love123 lovely loveme
babygirl secret123 internet1 samsung123 google google123 facebook yahoo123 linkedin twitter
zaq1zaq1 !qaz2wsx !QAZ2wsx qazwsx123 qazwsxedcrfv 1qazxsw23edc 123abc123 abc123abc 111222 112211
121314 131420 201314 520131 584520 7758521 7758258 123321123 12345678910 1234567899 123456789q
beijing shanghai china123 zhongguo guangzhou shenzhen huawei xiaomi tencent alibaba baidu
gov123456 zhengfu zhengwu admin2020 admin2021 admin2022 admin2023 admin2024 admin2025
password2020 password2021 password2022 password2023 password2024 password2025
spring2024 summer2024 autumn2024 winter2024 Spring2024 Summer2024 Winter2024
"""
words = sorted({w for w in base.split()})
extra = set()
# Keyboard runs and repeated digits or letters of every length the policy could see.
for run in ("1234567890", "0987654321", "qwertyuiop", "asdfghjkl", "zxcvbnm", "abcdefghijklmnopqrstuvwxyz",
            "1qaz2wsx3edc4rfv", "qazwsxedcrfvtgb", "!@#$%^&*()"):
    for n in range(6, len(run) + 1):
        extra.add(run[:n])
for ch in "0123456789abcdefghijklmnopqrstuvwxyz":
    for n in range(6, 17):
        extra.add(ch * n)
# Years and birthdays people use: 19700101 … 20251231 would be too many; whole years repeated.
for year in range(1950, 2031):
    extra.add(f"{year}{year}")
    for w in ("password", "admin", "qwerty", "abc", "woaini", "iloveyou", "welcome"):
        extra.add(f"{w}{year}")
for w in ("password", "admin", "qwerty", "welcome", "letmein", "iloveyou", "woaini", "monkey", "dragon",
          "master", "abc", "test", "root", "user", "guest", "changeme", "govmedia", "zhengwu", "weibo", "weixin"):
    for suffix in ("", "1", "12", "123", "1234", "12345", "123456", "!", "@123", "#123", "!@#", "666", "888", "520"):
        extra.add(w + suffix)
        extra.add(w.capitalize() + suffix)
allw = sorted(set(words) | extra, key=lambda s: (s.lower(), s))
with open("src/govmedia/store/common-passwords.txt", "w") as f:
    f.write("# Common passwords refused by govmedia's password policy (compared case-insensitively).\n")
    f.write("# Well-known leaked passwords (rockyou/SecLists and Chinese leak top lists) and their usual patterns.\n")
    for w in allw:
        f.write(w + "\n")
print(len(allw))
