DROP TABLE admin_invitations;
