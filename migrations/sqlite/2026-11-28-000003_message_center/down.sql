DROP TABLE member_invitations;
DROP TABLE member_users;
DROP TABLE mc_recipients;
DROP TABLE associations;
